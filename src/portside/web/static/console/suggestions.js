// Suggested replies above the composer: the store's knowledge for what the shopper last
// asked (GET /conversations/{id}/suggestions), in their language where the store has it.
// A click puts the text in the composer, where the agent can edit it before sending.
// They are read again whenever the shopper writes in the open conversation.

import { conversationPath } from "./api.js";
import { byId, h } from "./dom.js";

export class SuggestionStrip {
  #api;
  #onUse;
  #node = byId("suggestions");
  #conversationId = null;
  #asked = 0;
  #onClick = (event) => this.#clicked(event);
  #items = [];

  /** @param {{onUse: (text: string) => void}} deps */
  constructor({ api, onUse }) {
    this.#api = api;
    this.#onUse = onUse;
    this.#node.addEventListener("click", this.#onClick);
  }

  destroy() {
    this.show(null);
    this.#node.removeEventListener("click", this.#onClick);
  }

  /** The suggestions for a conversation (none: hidden). */
  show(id) {
    this.#conversationId = id;
    this.#render([]);
    if (id !== null) this.#load(id);
  }

  /** A live event: a new message from the shopper asks for new suggestions. */
  onEvent(event) {
    const fromShopper = event.type === "message.created" && event.actor?.type === "visitor";
    if (fromShopper && event.conversation_id === this.#conversationId) {
      this.#load(event.conversation_id);
    }
  }

  async #load(id) {
    const asked = ++this.#asked;
    let answer;
    try {
      answer = await this.#api.get(conversationPath(id, "/suggestions"));
    } catch {
      return; // only a help: the agent can answer without it
    }
    if (asked !== this.#asked || id !== this.#conversationId) return;
    this.#render(answer?.suggestions ?? [], answer?.language);
  }

  #render(items, language) {
    this.#items = items;
    if (!items.length) {
      this.#node.hidden = true;
      this.#node.replaceChildren();
      return;
    }
    const buttons = items.map((item, index) =>
      h(
        "button",
        {
          type: "button",
          class: "suggestion",
          "data-testid": "suggestion",
          "data-index": String(index),
          "data-entry-id": item.id,
          title: item.text,
        },
        h("span", { class: "suggestion-title", text: item.title }),
        // Said when the store has the entry only in another language than the shopper's.
        item.language !== language
          ? h("span", { class: "suggestion-language", text: item.language })
          : null,
      ),
    );
    const label = h("span", { class: "suggestions-label", text: "Suggested:" });
    this.#node.replaceChildren(label, ...buttons);
    this.#node.hidden = false;
  }

  #clicked(event) {
    const button = event.target instanceof Element ? event.target.closest(".suggestion") : null;
    if (!button) return;
    const item = this.#items[Number(button.dataset.index)];
    if (item) this.#onUse(item.text);
  }
}
