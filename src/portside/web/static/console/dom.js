// Building DOM nodes without HTML strings, and the page's one alert region.
//
// Every piece of text goes in as a text node, so nothing a shopper or an agent types can
// ever become markup: the console never assigns innerHTML.

/**
 * A new element: `h("li", {class: "row", "data-testid": "x"}, "text", childNode)`.
 *
 * Props: `class`, `text` (textContent); any other key becomes an attribute (true gives
 * an empty attribute; null, undefined and false leave it out).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    // append() turns strings into text nodes.
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** The element with this id in index.html; a missing one is a bug, so it throws. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the console page`);
  return node;
}

/** Whether a key press belongs to a text field (so single-letter shortcuts stay out). */
export function isTextEntry(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "submit", "reset"].includes(target.type);
  }
  return false;
}

/** A brief message in the page's one alert region; it fades after a few seconds. */
export class Toast {
  #node;
  #timer = 0;

  constructor(node) {
    this.#node = node;
    node.addEventListener("click", () => this.hide());
  }

  show(message, { ms = 8000 } = {}) {
    this.#node.textContent = message;
    this.#node.hidden = false;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.hide(), ms);
  }

  hide() {
    clearTimeout(this.#timer);
    this.#node.hidden = true;
    this.#node.textContent = "";
  }
}
