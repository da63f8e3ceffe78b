// What the console knows about each conversation: the inbox row as the REST API gives it,
// kept current by applying the live events of the log.
//
// Each conversation carries its `last_seq`; an event at or below it is already reflected
// and is ignored, so replays after a reconnect never apply twice. A row fetched over HTTP
// replaces the one held only when it is at least as recent.

export const FILTERS = ["all", "mine", "unassigned", "bot", "queued", "assigned", "resolved"];

// As the server cuts previews (domain/conversations.py).
const PREVIEW_CHARS = 200;
// Unread marks kept at most; the oldest go first.
const MAX_UNREAD = 500;

/** Whether a conversation belongs in the inbox under `filter` (as the server decides). */
export function matchesFilter(conversation, filter, agentId) {
  const { status } = conversation;
  switch (filter) {
    case "all":
      return true;
    case "mine":
      return status === "assigned" && conversation.assignee?.id === agentId;
    case "unassigned":
      return status === "bot" || status === "queued";
    default:
      return status === filter;
  }
}

/** The inbox order: most recent activity first, then the higher id. */
export function newestFirst(a, b) {
  if (a.updated_at !== b.updated_at) return a.updated_at < b.updated_at ? 1 : -1;
  return b.id - a.id;
}

export class ConversationStore {
  #byId = new Map();
  #unread;
  #unreadKey;

  constructor(agentId) {
    // Unread marks survive a reload of the page (per agent, in this browser).
    this.#unreadKey = `portside.console.unread.${agentId}`;
    this.#unread = new Set(readList(this.#unreadKey));
  }

  get(id) {
    return this.#byId.get(id) ?? null;
  }

  all() {
    return [...this.#byId.values()];
  }

  /** Keep a conversation from the API; returns the one held (which may be newer). */
  upsert(fresh) {
    const held = this.#byId.get(fresh.id);
    if (held && held.last_seq > fresh.last_seq) return held;
    const conversation = { ...fresh, visitor: { ...(fresh.visitor ?? {}) } };
    this.#byId.set(conversation.id, conversation);
    return conversation;
  }

  /** Forget a deleted conversation; false if it was not held. */
  remove(id) {
    this.markRead(id);
    return this.#byId.delete(id);
  }

  /** Apply one log event to its conversation; false if unknown or already applied. */
  applyEvent(event) {
    const conversation = this.#byId.get(event.conversation_id);
    if (!conversation || event.seq <= conversation.last_seq) return false;
    conversation.last_seq = event.seq;
    conversation.updated_at = event.at;
    const data = event.data ?? {};
    switch (event.type) {
      case "conversation.created":
        if (data.status) conversation.status = data.status;
        break;
      case "message.created":
        conversation.preview = String(data.text ?? "").slice(0, PREVIEW_CHARS);
        conversation.last_message_at = event.at;
        applyClocks(conversation, event.actor?.type, event.at);
        break;
      case "conversation.status_changed":
        conversation.status = data.to;
        conversation.assignee = data.assignee ?? null;
        applyStatusClocks(conversation, data.to, event.at);
        break;
      case "conversation.context_updated":
        applyContext(conversation.visitor, data);
        break;
      default:
        break; // notes and future event types change nothing on the row
    }
    return true;
  }

  /**
   * Apply an `inbox` change (the row's latest fields after one or more events); false if
   * unknown or no newer than what is held.
   */
  applyChange(change) {
    const conversation = this.#byId.get(change.id);
    if (!conversation || change.last_seq <= conversation.last_seq) return false;
    conversation.last_seq = change.last_seq;
    conversation.updated_at = change.updated_at;
    conversation.status = change.status;
    if ("assignee" in change) conversation.assignee = change.assignee ?? null;
    else if ((change.assignee_id ?? null) !== (conversation.assignee?.id ?? null)) {
      conversation.assignee = change.assignee_id == null ? null : { id: change.assignee_id, name: null };
    }
    if ("preview" in change) {
      conversation.preview = change.preview;
      conversation.last_message_at = change.last_message_at;
      applyClocks(conversation, change.last_from, change.last_message_at);
    }
    applyStatusClocks(conversation, change.status, change.updated_at);
    if (change.context) applyContext(conversation.visitor, change.context);
    return true;
  }

  isUnread(id) {
    return this.#unread.has(id);
  }

  get unreadCount() {
    return this.#unread.size;
  }

  markUnread(id) {
    if (this.#unread.has(id)) return;
    this.#unread.add(id);
    if (this.#unread.size > MAX_UNREAD) this.#unread.delete(this.#unread.values().next().value);
    writeList(this.#unreadKey, this.#unread);
  }

  markRead(id) {
    if (!this.#unread.delete(id)) return;
    writeList(this.#unreadKey, this.#unread);
  }
}

/** A `conversation.context_updated` event's data onto the visitor of a row. */
function applyContext(visitor, data) {
  const fields = {
    url: "page_url",
    title: "page_title",
    product: "product",
    language: "language",
    timezone: "timezone",
    country: "country",
  };
  for (const [from, to] of Object.entries(fields)) {
    if (data[from] !== undefined && data[from] !== null) visitor[to] = data[from];
  }
  // A page without a product clears the product of the page before.
  if ("product" in data) visitor.product = data.product ?? null;
}

function readList(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? "[]");
    return Array.isArray(value) ? value.filter(Number.isInteger) : [];
  } catch {
    return []; // storage disabled or corrupt: start with nothing unread
  }
}

function writeList(key, values) {
  try {
    localStorage.setItem(key, JSON.stringify([...values]));
  } catch {
    // storage full or disabled: unread marks then last only as long as the page
  }
}

/** The SLA clocks a message moves, as the server does (services/_log.py). */
function applyClocks(conversation, from, at) {
  if (from === "visitor") {
    conversation.awaiting_since ??= at;
  } else if (from === "agent" || from === "bot") {
    conversation.awaiting_since = null;
    if (from === "agent") conversation.first_reply_at ??= at;
  }
}

function applyStatusClocks(conversation, status, at) {
  if (status === "queued" || status === "assigned") conversation.handoff_at ??= at;
  if (status === "resolved") conversation.resolved_at ??= at;
  else conversation.resolved_at = null;
}
