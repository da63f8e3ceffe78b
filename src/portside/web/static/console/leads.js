// Hot leads: a card for each `lead` frame (docs/protocol.md) while the agent is online.
//
// A trigger rule with "notify agents" fired for a shopper: the card says who (flag,
// country, language), which rule, the page and product they are on and their cart
// value, with "Open conversation" when the rule started one. Cards stack in the corner,
// newest on top, at most MAX_CARDS; each goes away when dismissed, when its
// conversation is opened, or after CARD_MS. Texts go in as text, never as markup.

import { byId, h } from "./dom.js";
import { countryName, flag, languageName, shortTime } from "./format.js";

const MAX_CARDS = 4;
const CARD_MS = 5 * 60_000;

export class LeadCards {
  #root;
  #cards = new Map(); // fire id -> {node, timer}

  constructor() {
    this.#root = h("section", {
      class: "lead-cards",
      "data-testid": "lead-cards",
      "aria-label": "Hot leads",
      "aria-live": "polite",
    });
    document.body.append(this.#root);
  }

  destroy() {
    for (const { timer } of this.#cards.values()) clearTimeout(timer);
    this.#cards.clear();
    this.#root.remove();
  }

  /** A `lead` frame: shown unless the agent is away or offline, or it is shown already. */
  show(frame) {
    if (!frame || typeof frame !== "object" || this.#cards.has(frame.fire_id)) return;
    if (byId("presence").value !== "online") return;
    const node = this.#card(frame);
    const timer = setTimeout(() => this.#remove(frame.fire_id), CARD_MS);
    this.#cards.set(frame.fire_id, { node, timer });
    this.#root.prepend(node);
    while (this.#cards.size > MAX_CARDS) this.#remove(this.#cards.keys().next().value);
  }

  #remove(fireId) {
    const card = this.#cards.get(fireId);
    if (!card) return;
    clearTimeout(card.timer);
    card.node.remove();
    this.#cards.delete(fireId);
  }

  #card(frame) {
    const visitor = frame.visitor ?? {};
    const page = visitor.page ?? {};
    const who = [
      visitor.name || `Visitor ${visitor.id ?? ""}`.trim(),
      [flag(visitor.country), countryName(visitor.country)].filter(Boolean).join(" "),
      languageName(visitor.language),
    ].filter(Boolean);
    const details = h("dl", { class: "lead-details" });
    const add = (term, value, testid) => {
      if (value === null || value === undefined || value === "") return;
      details.append(
        h("dt", { text: term }),
        h("dd", { "data-testid": testid, text: String(value) }),
      );
    };
    add("Who", who.join(" · "), "lead-who");
    add("Rule", frame.trigger?.name, "lead-rule");
    add("Page", page.title || page.url, "lead-page");
    add("Product", page.product, "lead-product");
    add("Cart", visitor.cart_value, "lead-cart");

    const dismiss = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "lead-dismiss",
      "aria-label": "Dismiss",
      text: "×",
    });
    dismiss.addEventListener("click", () => this.#remove(frame.fire_id));
    const actions = h("div", { class: "lead-actions" });
    if (Number.isInteger(frame.conversation_id)) {
      const open = h("button", {
        type: "button",
        class: "primary",
        "data-testid": "lead-open",
        text: "Open conversation",
      });
      open.addEventListener("click", () => {
        // The app opens what the address names (app.js #selectFromHash).
        location.hash = `#conversation-${frame.conversation_id}`;
        this.#remove(frame.fire_id);
      });
      actions.append(open);
    }
    if (page.url) {
      details.querySelector("[data-testid='lead-page']")?.setAttribute("title", page.url);
    }
    return h(
      "article",
      { class: "lead-card", "data-testid": "lead-card", "data-fire-id": frame.fire_id },
      h(
        "header",
        { class: "lead-head" },
        h("strong", { text: "Hot lead" }),
        h("span", { class: "muted", text: frame.at ? shortTime(frame.at) : "" }),
        h("span", { class: "topbar-spacer" }),
        dismiss,
      ),
      details,
      actions,
    );
  }
}
