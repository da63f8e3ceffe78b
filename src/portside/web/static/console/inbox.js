// The inbox: filter buttons, the list of conversations, "load more".
//
// The list shows the conversations of the active filter that are loaded, in inbox order.
// A page comes from GET /api/v1/conversations; after that, each change to a conversation
// (a live event) re-renders its row, moves it to its place, adds it when it now matches
// the filter and removes it when it no longer does.

import { conversationPath } from "./api.js";
import { FILTERS, matchesFilter, newestFirst } from "./conversations.js";
import { byId, h } from "./dom.js";
import { countryName, flag, relativeTime, statusLabel, timeElement } from "./format.js";

const PAGE_SIZE = 50;

export class InboxView {
  #api;
  #store;
  #agentId;
  #onSelect;
  #onError;
  #list = byId("conversation-list");
  #loadMore = byId("load-more");
  #empty = byId("inbox-empty");
  #filterButtons = [...document.querySelectorAll("[data-filter]")];
  #rows = new Map(); // conversation id -> its <li>
  #members = new Set(); // ids shown under the active filter
  #filter = "all";
  #nextBefore = null;
  #selectedId = null;
  #loadToken = 0; // a newer load makes the answers of older ones void
  #listeners = [];

  constructor({ api, store, agentId, onSelect, onError }) {
    this.#api = api;
    this.#store = store;
    this.#agentId = agentId;
    this.#onSelect = onSelect;
    this.#onError = onError;
    for (const button of this.#filterButtons) {
      this.#listen(button, "click", () => this.setFilter(button.dataset.filter));
    }
    this.#listen(this.#loadMore, "click", () => this.#loadPage(this.#nextBefore));
    this.#listen(this.#list, "click", (event) => this.#rowEvent(event));
    this.#listen(this.#list, "keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") this.#rowEvent(event);
    });
    this.#showFilter();
  }

  get filter() {
    return this.#filter;
  }

  /** Forget everything shown (the agent logged out). */
  destroy() {
    for (const [node, type, listener] of this.#listeners) node.removeEventListener(type, listener);
    this.#loadToken += 1;
    this.#list.replaceChildren();
    this.#rows.clear();
    this.#members.clear();
    this.#loadMore.hidden = true;
    this.#empty.hidden = true;
  }

  setFilter(filter) {
    if (!FILTERS.includes(filter)) return;
    this.#filter = filter;
    this.#showFilter();
    return this.load();
  }

  /** The first page of the active filter, replacing what is shown. */
  load() {
    return this.#loadPage(null);
  }

  /** Fetch one conversation the inbox has not seen (it just appeared in the live feed). */
  async fetchConversation(id) {
    const fresh = await this.#api.get(conversationPath(id));
    return this.#store.upsert(fresh);
  }

  /** A conversation changed: re-render its row and put it where it now belongs. */
  update(conversation) {
    const id = conversation.id;
    if (matchesFilter(conversation, this.#filter, this.#agentId)) {
      this.#members.add(id);
      this.#renderRow(conversation);
    } else if (this.#members.delete(id)) {
      this.#rows.get(id)?.remove();
      this.#rows.delete(id);
    }
    this.#arrange();
  }

  /** A deleted conversation leaves the list. */
  remove(id) {
    this.#members.delete(id);
    this.#rows.get(id)?.remove();
    this.#rows.delete(id);
    this.#arrange();
  }

  setSelected(id) {
    const before = this.#rows.get(this.#selectedId);
    this.#selectedId = id;
    if (before) this.#renderRow(this.#store.get(Number(before.dataset.conversationId)));
    const row = this.#rows.get(id);
    if (row) this.#renderRow(this.#store.get(id));
    this.#fixTabStop();
  }

  /** The id `delta` rows away from the selected one (the first row when none is). */
  neighbour(delta) {
    const order = this.#order().map((c) => c.id);
    if (!order.length) return null;
    const at = order.indexOf(this.#selectedId);
    if (at === -1) return order[delta > 0 ? 0 : order.length - 1];
    return order[Math.min(order.length - 1, Math.max(0, at + delta))];
  }

  focusRow(id) {
    const row = this.#rows.get(id);
    if (!row) return false;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    return true;
  }

  /** Refresh the "5 min" times (called every 30 s). */
  tick() {
    const now = Date.now();
    for (const row of this.#rows.values()) {
      const time = row.querySelector("time");
      if (time) time.textContent = relativeTime(time.dateTime, now);
    }
  }

  async #loadPage(before) {
    const token = ++this.#loadToken;
    const filter = this.#filter;
    this.#list.setAttribute("aria-busy", "true");
    this.#loadMore.disabled = true;
    const query = new URLSearchParams({ filter, limit: String(PAGE_SIZE) });
    if (before !== null) query.set("before", String(before));
    try {
      const page = await this.#api.get(`/api/v1/conversations?${query}`);
      if (token !== this.#loadToken) return;
      if (before === null) {
        this.#members.clear();
        this.#rows.clear();
        this.#list.replaceChildren();
      }
      for (const fresh of page.conversations) {
        const conversation = this.#store.upsert(fresh);
        // Held data may be newer than the page and no longer match the filter.
        if (matchesFilter(conversation, filter, this.#agentId)) {
          this.#members.add(conversation.id);
          this.#renderRow(conversation);
        }
      }
      this.#nextBefore = page.next_before ?? null;
      this.#arrange();
    } catch (error) {
      if (token === this.#loadToken) this.#onError(error.message);
    } finally {
      if (token === this.#loadToken) {
        this.#list.removeAttribute("aria-busy");
        this.#loadMore.disabled = false;
        this.#loadMore.hidden = this.#nextBefore === null;
      }
    }
  }

  #order() {
    return [...this.#members]
      .map((id) => this.#store.get(id))
      .filter(Boolean)
      .sort(newestFirst);
  }

  /** Put the rows in inbox order, moving only those out of place (moves lose focus). */
  #arrange() {
    const focused = document.activeElement;
    this.#order().forEach((conversation, index) => {
      const row = this.#rows.get(conversation.id);
      if (row && this.#list.children[index] !== row) {
        this.#list.insertBefore(row, this.#list.children[index] ?? null);
      }
    });
    if (focused instanceof HTMLElement && focused !== document.activeElement) {
      focused.focus({ preventScroll: true });
    }
    this.#empty.hidden = this.#members.size > 0;
    this.#fixTabStop();
  }

  /** One row in the list takes Tab focus: the selected one, or the first. */
  #fixTabStop() {
    const rows = [...this.#list.children];
    const stop = this.#rows.get(this.#selectedId) ?? rows[0];
    for (const row of rows) row.tabIndex = row === stop ? 0 : -1;
  }

  #renderRow(conversation) {
    if (!conversation) return;
    let row = this.#rows.get(conversation.id);
    if (!row) {
      row = h("li", { class: "row", role: "option", "data-testid": "conversation-row" });
      this.#rows.set(conversation.id, row);
      this.#list.append(row); // #arrange() moves it into place
    }
    const unread = this.#store.isUnread(conversation.id);
    const selected = conversation.id === this.#selectedId;
    row.dataset.conversationId = String(conversation.id);
    row.dataset.status = conversation.status;
    row.dataset.unread = String(unread);
    row.setAttribute("aria-selected", String(selected));
    row.classList.toggle("is-selected", selected);
    row.classList.toggle("is-unread", unread);
    row.replaceChildren(...rowContent(conversation, unread));
  }

  #rowEvent(event) {
    const row = event.target instanceof Element ? event.target.closest(".row") : null;
    if (!row) return;
    event.preventDefault();
    this.#onSelect(Number(row.dataset.conversationId), { focusRow: true });
  }

  #showFilter() {
    for (const button of this.#filterButtons) {
      const active = button.dataset.filter === this.#filter;
      // aria-pressed is what assistive technology reads on a toggle button;
      // aria-selected is mirrored for scripts that look for the selected tab.
      button.setAttribute("aria-pressed", String(active));
      button.setAttribute("aria-selected", String(active));
      button.classList.toggle("is-active", active);
    }
  }

  #listen(node, type, listener) {
    node.addEventListener(type, listener);
    this.#listeners.push([node, type, listener]);
  }
}

/** The inside of a row: who and where, when, the last message, status and assignee. */
function rowContent(conversation, unread) {
  const visitor = conversation.visitor ?? {};
  const where = [visitor.country, visitor.language].filter(Boolean).join(" · ");
  const who = visitor.name || visitor.email || `Visitor ${visitor.id ?? ""}`.trim();
  const at = conversation.last_message_at ?? conversation.updated_at;
  return [
    h(
      "span",
      { class: "row-top" },
      unread ? unreadDot() : null,
      h("span", { class: "row-flag", "aria-hidden": "true", text: flag(visitor.country) }),
      h("span", { class: "row-who", text: who }),
      where
        ? h("span", { class: "row-where", title: countryName(visitor.country), text: where })
        : null,
      timeElement(at, relativeTime(at), "row-time"),
    ),
    h("span", { class: "row-preview", text: conversation.preview || "No messages yet" }),
    h(
      "span",
      { class: "row-bottom" },
      h("span", {
        class: `badge status-${conversation.status}`,
        "data-testid": "row-status",
        text: statusLabel(conversation.status),
      }),
      h("span", { class: "row-assignee", text: conversation.assignee?.name ?? "" }),
      // Filled every second by sla.js.
      h("span", { class: "sla", "data-testid": "row-sla", hidden: true }),
    ),
  ];
}

function unreadDot() {
  return h(
    "span",
    { class: "unread-dot", "data-testid": "unread-dot", title: "Unread" },
    h("span", { class: "visually-hidden", text: "Unread: " }),
  );
}
