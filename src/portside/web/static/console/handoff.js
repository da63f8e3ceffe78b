// The handoff context card: what the AI agent hands a person with a conversation.
//
// The server writes it as an internal `conversation.handoff_context` event when the bot
// hands over (or right after the shopper pressed "talk to a person"); docs/protocol.md
// has its fields. The latest one is pinned above the transcript, and each one is shown
// inline in the transcript where it happened. Everything in it came from the shopper's
// words or browser, so it is set as text, and a page link is a link only for http(s).

import { byId, h } from "./dom.js";
import { countryName, flag, languageName, localTimeIn, words } from "./format.js";

export const HANDOFF_EVENT = "conversation.handoff_context";

const SENTIMENTS = {
  negative: "Upset",
  neutral: "Calm",
  positive: "Happy",
};

/** The card pinned at the top of the open conversation. */
export class HandoffCard {
  #node = byId("handoff-card");
  #packet = null;

  /** Show this packet's data (the latest handoff_context event's), or hide the card. */
  show(event) {
    const data = event?.data ?? null;
    if (data === this.#packet) return;
    this.#packet = data;
    this.#node.hidden = !data;
    if (!data) {
      this.#node.replaceChildren();
      return;
    }
    this.#node.replaceChildren(
      h(
        "div",
        { class: "handoff-head" },
        h("strong", { text: "Handed over by the AI agent" }),
        sentimentBadge(data.sentiment),
      ),
      ...handoffBody(data),
    );
  }

  /** The shopper's clock moves on (called with the context panel's tick). */
  tick() {
    const node = this.#node.querySelector("[data-testid='handoff-local-time']");
    if (node && this.#packet) node.textContent = localTimeText(this.#packet.timezone);
  }
}

/** A handoff_context event as a line of the transcript. */
export function renderHandoffEvent(event, at) {
  const data = event.data ?? {};
  return h(
    "li",
    { class: "handoff is-inline", "data-testid": "event-handoff", "data-seq": String(event.seq) },
    h(
      "div",
      { class: "msg-meta" },
      h("span", { class: "note-label", text: "Handoff context" }),
      sentimentBadge(data.sentiment),
      at,
    ),
    h("p", { class: "msg-text", text: data.summary ?? "" }),
  );
}

function handoffBody(data) {
  const rows = [];
  const add = (label, testId, ...value) => {
    if (value.length === 0 || value.every((v) => v === null || v === "")) return;
    rows.push(h("dt", { text: label }), h("dd", { "data-testid": testId }, ...value));
  };
  add("Language", "handoff-language", data.language ? languageText(data.language) : "");
  add("Asked about", "handoff-intent", intentsText(data));
  const orders = Array.isArray(data.orders) ? data.orders : [];
  if (orders.length) {
    add(
      "Orders",
      "handoff-orders",
      h("ul", { class: "plain" }, ...orders.map((order) => h("li", { text: orderText(order) }))),
    );
  }
  const tried = Array.isArray(data.tried) ? data.tried : [];
  if (tried.length) {
    add(
      "The AI agent tried",
      "handoff-tried",
      h("ul", { class: "plain" }, ...tried.map((step) => h("li", { text: String(step) }))),
    );
  }
  add("Page", "handoff-page", ...pageLink(data.page));
  if (data.country) {
    add(
      "Country",
      "handoff-country",
      h("span", { "aria-hidden": "true", text: `${flag(data.country)} ` }),
      `${countryName(data.country)} (${data.country})`,
    );
  }
  if (data.timezone) {
    add(
      "Their time now",
      "handoff-time",
      h("span", {
        class: "local-time",
        "data-testid": "handoff-local-time",
        text: localTimeText(data.timezone),
      }),
      ` · ${data.timezone}`,
    );
  }
  if (Number.isInteger(data.case_id)) add("Case", "handoff-case", `#${data.case_id} (below)`);
  return [
    h("p", { class: "handoff-summary", "data-testid": "handoff-summary", text: data.summary ?? "" }),
    h("dl", { class: "handoff-details" }, ...rows),
  ];
}

function sentimentBadge(sentiment) {
  if (!sentiment) return null;
  return h("span", {
    class: `badge sentiment-${SENTIMENTS[sentiment] ? sentiment : "neutral"}`,
    "data-testid": "handoff-sentiment",
    text: SENTIMENTS[sentiment] ?? String(sentiment),
  });
}

function languageText(code) {
  return `${languageName(code)} (${code})`;
}

function intentsText(data) {
  const intents = Array.isArray(data.intents) ? data.intents.map(String) : [];
  if (data.intent && !intents.includes(String(data.intent))) intents.push(String(data.intent));
  return intents.map(words).join(", ");
}

function orderText(order) {
  const number = String(order?.number ?? "?");
  const status = order?.status ?? null;
  const state = status === null ? "not found in the store" : words(status);
  const proof = order?.verified ? "verified as theirs" : "not verified";
  return `${number}: ${state}, ${proof}`;
}

/** The page's title as a link when its address is http(s); otherwise plain text. */
function pageLink(page) {
  if (!page || typeof page !== "object") return [];
  const url = typeof page.url === "string" ? page.url : "";
  const title = page.title || url || page.product || "";
  const parts = [];
  if (title) {
    parts.push(
      /^https?:\/\//i.test(url)
        ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: title })
        : h("span", { text: title }),
    );
  }
  if (page.product) parts.push(h("span", { class: "muted", text: ` · product ${page.product}` }));
  return parts;
}

function localTimeText(timeZone) {
  const local = localTimeIn(timeZone);
  return local ? `${local.time} (${local.difference})` : "Unknown";
}
