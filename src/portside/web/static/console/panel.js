// The context panel: who the shopper is, where, what time it is for them, which page
// they are on. It reads the `visitor` of the selected conversation, which
// `conversation.context_updated` events keep current.

import { byId, h } from "./dom.js";
import {
  ago,
  countryName,
  flag,
  fullTime,
  languageName,
  localTimeIn,
  shortTime,
  statusLabel,
} from "./format.js";

export class ContextPanel {
  #empty = byId("context-empty");
  #details = byId("context-details");
  #fields = {
    shopper: byId("ctx-shopper"),
    country: byId("ctx-country"),
    language: byId("ctx-language"),
    timezone: byId("ctx-timezone"),
    localTime: byId("ctx-local-time"),
    localDifference: byId("ctx-local-difference"),
    page: byId("ctx-page"),
    product: byId("ctx-product"),
    firstSeen: byId("ctx-first-seen"),
    lastSeen: byId("ctx-last-seen"),
    conversation: byId("ctx-conversation"),
  };
  #conversation = null;

  show(conversation) {
    this.#conversation = conversation;
    this.#empty.hidden = Boolean(conversation);
    this.#details.hidden = !conversation;
    if (!conversation) return;
    const visitor = conversation.visitor ?? {};
    const f = this.#fields;

    f.shopper.textContent =
      [visitor.name, visitor.email].filter(Boolean).join(" · ") || `Visitor ${visitor.id ?? ""}`;
    f.country.replaceChildren(
      ...(visitor.country
        ? [
            h("span", { "aria-hidden": "true", text: `${flag(visitor.country)} ` }),
            `${countryName(visitor.country)} (${visitor.country})`,
          ]
        : ["Unknown"]),
    );
    f.language.textContent = visitor.language
      ? `${languageName(visitor.language)} (${visitor.language})`
      : "Unknown";
    f.timezone.textContent = visitor.timezone || "Unknown";
    f.page.replaceChildren(...pageLines(visitor));
    f.product.textContent = visitor.product || "None";
    setTime(f.firstSeen, firstSeen(visitor, conversation), false);
    setTime(f.lastSeen, visitor.last_seen_at, true);
    const assignee = conversation.assignee?.name;
    f.conversation.textContent =
      `#${conversation.id} · ${statusLabel(conversation.status)}` +
      (assignee ? ` · ${assignee}` : "") +
      (conversation.created_at ? ` · started ${shortTime(conversation.created_at)}` : "");
    this.tick();
  }

  /** Refresh the shopper's local time (called every 30 s, and on show). */
  tick() {
    if (!this.#conversation) return;
    const local = localTimeIn(this.#conversation.visitor?.timezone);
    this.#fields.localTime.textContent = local ? local.time : "Unknown";
    this.#fields.localDifference.textContent = local ? `(${local.difference})` : "";
    const lastSeen = this.#fields.lastSeen.querySelector("time");
    if (lastSeen) lastSeen.textContent = ago(lastSeen.dateTime);
  }
}

/** The page title as a link to the page (http and https only), and the URL under it. */
function pageLines(visitor) {
  const url = visitor.page_url;
  const title = visitor.page_title || url;
  if (!title) return ["Unknown"];
  const safe = typeof url === "string" && /^https?:\/\//i.test(url);
  const link = safe
    ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: title })
    : h("span", { text: title });
  const address = url ? h("span", { class: "ctx-url", title: url, text: url }) : null;
  return [link, address].filter(Boolean);
}

/**
 * When the shopper was first seen. The visitor's own `first_seen_at` if the server sends
 * it; otherwise the start of this conversation, the earliest the console knows of.
 */
function firstSeen(visitor, conversation) {
  return visitor.first_seen_at ?? visitor.created_at ?? conversation.created_at ?? null;
}

function setTime(node, iso, relative) {
  if (!iso) {
    node.textContent = "Unknown";
    return;
  }
  const text = relative ? ago(iso) : shortTime(iso);
  node.replaceChildren(h("time", { datetime: iso, title: fullTime(iso), text }));
}
