// Canned replies in the composer: "/" and the start of a shortcut open a list of the
// store's replies, filled in for the open conversation in the shopper's language
// (GET /conversations/{id}/canned-replies?q=). Arrow keys move, Enter or Tab picks,
// Escape closes; a click picks too. While the list is open, Enter never sends what was
// typed. The composer puts the chosen text in place of "/shortcut" and asks the agent to
// fill any variable the server had no value for (it comes back as `{name}`).

import { conversationPath } from "./api.js";
import { byId, h } from "./dom.js";

const SEARCH_DELAY_MS = 120;
// "/" at the start of the text or after a space, then the shortcut typed so far.
const TRIGGER = /(^|\s)\/([\p{L}\p{N}_-]*)$/u;

export class CannedPicker {
  #api;
  #input;
  #onPick;
  #onError;
  #list = byId("canned-list");
  #conversationId = null;
  #items = [];
  #active = 0;
  #range = null; // {start, end} of "/shortcut" in the text box
  #timer = 0;
  #asked = 0; // the latest search; answers to older ones are dropped
  #onListClick = (event) => this.#clicked(event);

  /**
   * @param {object} deps
   * @param {HTMLTextAreaElement} deps.input  the composer's text box
   * @param {(item: object, range: {start: number, end: number}) => void} deps.onPick
   */
  constructor({ api, input, onPick, onError }) {
    this.#api = api;
    this.#input = input;
    this.#onPick = onPick;
    this.#onError = onError;
    // mousedown, not click: the text box keeps the focus (and its caret).
    this.#list.addEventListener("mousedown", this.#onListClick);
  }

  destroy() {
    this.close();
    this.#list.removeEventListener("mousedown", this.#onListClick);
  }

  get isOpen() {
    return !this.#list.hidden;
  }

  setConversation(id) {
    this.#conversationId = id;
    this.close();
  }

  /** After each change of the text box: open, narrow or close the list. */
  update() {
    const caret = this.#input.selectionStart ?? this.#input.value.length;
    const match = TRIGGER.exec(this.#input.value.slice(0, caret));
    if (!match || this.#conversationId === null) {
      this.close();
      return;
    }
    this.#range = { start: caret - match[2].length - 1, end: caret };
    if (!this.isOpen) this.#show([], "Searching…");
    clearTimeout(this.#timer);
    const query = match[2];
    this.#timer = setTimeout(() => this.#search(query), SEARCH_DELAY_MS);
  }

  /** A key in the text box; true if the open list took it. */
  handleKey(event) {
    if (!this.isOpen) return false;
    switch (event.key) {
      case "ArrowDown":
        this.#move(1);
        break;
      case "ArrowUp":
        this.#move(-1);
        break;
      case "Enter":
      case "Tab":
        if (event.shiftKey && event.key === "Enter") return false;
        if (this.#items.length) this.#pick(this.#items[this.#active]);
        break;
      case "Escape":
        this.close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  }

  close() {
    clearTimeout(this.#timer);
    this.#asked += 1;
    this.#items = [];
    this.#range = null;
    this.#list.hidden = true;
    this.#list.replaceChildren();
    this.#input.removeAttribute("aria-activedescendant");
    this.#input.setAttribute("aria-expanded", "false");
  }

  async #search(query) {
    const id = this.#conversationId;
    const asked = ++this.#asked;
    let answer;
    try {
      answer = await this.#api.get(
        conversationPath(id, `/canned-replies?q=${encodeURIComponent(query)}`),
      );
    } catch (error) {
      if (asked !== this.#asked) return;
      this.close();
      this.#onError(`Canned replies could not be loaded: ${error.message}`);
      return;
    }
    if (asked !== this.#asked || id !== this.#conversationId || !this.#range) return;
    const items = answer?.canned_replies ?? [];
    this.#show(items, items.length ? "" : `No canned reply matches /${query}.`);
  }

  #show(items, message) {
    this.#items = items;
    this.#active = 0;
    const rows = items.map((item, index) =>
      h(
        "li",
        {
          id: `canned-${index}`,
          class: "canned-item",
          role: "option",
          "data-testid": "canned-item",
          "data-shortcut": item.shortcut,
          "data-index": String(index),
        },
        h("span", { class: "canned-shortcut", text: `/${item.shortcut}` }),
        h("span", { class: "canned-language", text: item.language }),
        h("span", { class: "canned-text", text: item.text }),
        item.missing?.length
          ? h("span", {
              class: "canned-missing",
              "data-testid": "canned-missing",
              text: `To fill in: ${braced(item.missing)}`,
            })
          : null,
      ),
    );
    if (message) rows.push(h("li", { class: "canned-empty muted", text: message }));
    this.#list.replaceChildren(...rows);
    this.#list.hidden = false;
    this.#input.setAttribute("aria-expanded", "true");
    this.#highlight();
  }

  #move(delta) {
    if (!this.#items.length) return;
    this.#active = (this.#active + delta + this.#items.length) % this.#items.length;
    this.#highlight();
  }

  #highlight() {
    for (const row of this.#list.querySelectorAll(".canned-item")) {
      const on = Number(row.dataset.index) === this.#active;
      row.setAttribute("aria-selected", String(on));
      if (on) {
        row.scrollIntoView({ block: "nearest" });
        this.#input.setAttribute("aria-activedescendant", row.id);
      }
    }
  }

  #clicked(event) {
    const row = event.target instanceof Element ? event.target.closest(".canned-item") : null;
    if (!row) return;
    event.preventDefault();
    this.#pick(this.#items[Number(row.dataset.index)]);
  }

  #pick(item) {
    const range = this.#range;
    this.close();
    if (item && range) this.#onPick(item, range);
  }
}

/** The `{name}` gaps canned replies left in the text box, until the agent fills them. */
export class Gaps {
  #input;
  #note = byId("composer-gaps");
  #names = new Set();

  constructor(input) {
    this.#input = input;
  }

  /** Every gap noted, filled or not (kept with a conversation's draft). */
  get names() {
    return [...this.#names];
  }

  set(names) {
    this.#names = new Set(names);
  }

  add(names) {
    for (const name of names) this.#names.add(name);
  }

  clear() {
    this.#names.clear();
  }

  /** The gaps still in the text, in the order they came in. */
  open() {
    const text = this.#input.value;
    return this.names.filter((name) => text.includes(`{${name}}`));
  }

  complaint() {
    return `Fill in ${braced(this.open())} before sending.`;
  }

  /** Say under the box what is left to fill; true if anything is. */
  render() {
    const open = this.open();
    this.#note.textContent = open.length ? `Fill in before sending: ${braced(open)}` : "";
    this.#note.hidden = !open.length;
    return open.length > 0;
  }

  /** Select the first gap left, so that what the agent types replaces it; false if none. */
  selectFirst() {
    const [name] = this.open();
    if (name === undefined) return false;
    const at = this.#input.value.indexOf(`{${name}}`);
    this.#input.focus();
    this.#input.setSelectionRange(at, at + name.length + 2);
    return true;
  }
}

function braced(names) {
  return names.map((name) => `{${name}}`).join(", ");
}
