// The transcript of the selected conversation, and the event logs behind it.
//
// A conversation's log is read from GET .../events (page by page) the first time it is
// opened, then kept current by live events, each applied once: an event at or below the
// highest seq applied is a replay and is ignored. Live events that arrive while the log is
// being read wait in a buffer and are applied after it. The logs stay cached for the
// session, so going back to a conversation shows it at once.

import { conversationPath } from "./api.js";
import { ATTACHMENT_NOTES, addAttachmentNote, forgetUrls, renderAttachments } from "./attachments.js";
import { byId, h } from "./dom.js";
import { shortTime, statusLabel, timeElement } from "./format.js";
import { HANDOFF_EVENT, renderHandoffEvent } from "./handoff.js";

const EVENTS_PAGE = 500;
// A typing signal lasts this long unless renewed (the shopper may close the tab mid-word).
const TYPING_SHOWN_MS = 8_000;
// Closer than this to the bottom, new lines keep the transcript scrolled to the end.
const STICKY_PX = 80;

export class Transcripts {
  #api;
  #store;
  #agentId;
  #onError;
  #pendingFor;
  #onLog;
  #translation; // learns every event, and adds translations to messages (translation.js)
  #scroller = byId("transcript");
  #log = byId("transcript-log");
  #pendingList = byId("transcript-pending");
  #placeholder = byId("transcript-placeholder");
  #typing = byId("typing");
  #logs = new Map(); // conversation id -> {events, lastSeq, loaded, loading, buffer}
  #selectedId = null;
  #pendingNodes = new Map(); // client_id -> <li>, for the selected conversation
  #typingUntil = new Map(); // conversation id -> time the typing signal lapses
  #typingTimer = 0;

  /**
   * @param {object} deps
   * @param {(id: number) => object[]} deps.pendingFor  the sends not yet confirmed
   * @param {(id: number) => void} [deps.onLog]  a log was read or grew (for the pinned cards)
   */
  constructor({ api, store, agentId, onError, pendingFor, onLog = () => {}, translation }) {
    this.#translation = translation;
    this.#api = api;
    this.#onLog = onLog;
    this.#store = store;
    this.#agentId = agentId;
    this.#onError = onError;
    this.#pendingFor = pendingFor;
  }

  destroy() {
    this.#logs.clear();
    this.#typingUntil.clear();
    clearTimeout(this.#typingTimer);
    forgetUrls();
    this.show(null);
  }

  /** Show a conversation's transcript (reading its log first if needed), or none. */
  show(id) {
    this.#selectedId = id;
    this.#log.replaceChildren();
    this.#pendingList.replaceChildren();
    this.#pendingNodes.clear();
    this.#renderTyping();
    if (id === null) {
      this.#say("Choose a conversation from the inbox.");
      return;
    }
    let log = this.#logs.get(id);
    if (!log) {
      log = { events: [], lastSeq: 0, loaded: false, loading: false, buffer: [] };
      this.#logs.set(id, log);
    }
    for (const item of this.#pendingFor(id)) this.addPending(item);
    if (log.loaded && !log.loading) this.#renderAll(log);
    else {
      this.#say("Loading the conversation…");
      if (!log.loading) this.#read(id, log);
    }
  }

  /** A live (or replayed) event: applied once to its cached log, shown if selected. */
  apply(event, { fillGaps = true } = {}) {
    const id = event.conversation_id;
    if (event.type === "message.created" && event.actor?.type === "visitor") {
      this.#setTyping(id, false);
    }
    let log = this.#logs.get(id);
    if (!log) {
      // Never opened: its log is read when it is. A conversation given to this agent
      // arrives whole from its first event, though: kept, it opens at once.
      if (event.seq !== 1) return;
      log = { events: [], lastSeq: 0, loaded: true, loading: false, buffer: [] };
      this.#logs.set(id, log);
    }
    if (log.loading) {
      log.buffer.push(event);
      return;
    }
    if (!log.loaded || event.seq <= log.lastSeq) return;
    if (fillGaps && event.seq > log.lastSeq + 1) {
      // Events went missing (a reconnect in between): read them before this one.
      log.buffer.push(event);
      this.#read(id, log);
      return;
    }
    log.events.push(event);
    log.lastSeq = event.seq;
    this.#translation?.learn(event);
    if (id === this.#selectedId) this.#append(event);
    this.#onLog(id);
  }

  /** A deleted conversation: its log is dropped (SQLite may give its id to a new one). */
  forget(id) {
    this.#logs.delete(id);
    this.#typingUntil.delete(id);
    if (id === this.#selectedId) this.show(null);
  }

  /** The latest event of `type` in a conversation's log as read so far, or null. */
  latest(id, type) {
    const events = this.#logs.get(id)?.events ?? [];
    for (let i = events.length - 1; i >= 0; i -= 1) {
      if (events[i].type === type) return events[i];
    }
    return null;
  }

  /** Whether the event with this seq has been applied to the conversation's log. */
  hasApplied(id, seq) {
    return (this.#logs.get(id)?.lastSeq ?? 0) >= seq;
  }

  /** `{id: last_seq}` of the logs read completely: where the server resumes from. */
  resumePoints() {
    const points = new Map();
    for (const [id, log] of this.#logs) {
      if (log.loaded && !log.loading) points.set(id, log.lastSeq);
    }
    return points;
  }

  /** A `typing` frame: "Shopper is typing…" under that conversation's transcript. */
  onTyping(frame) {
    if (frame.actor?.type !== "visitor") return;
    this.#setTyping(frame.conversation_id, frame.state === true);
  }

  // Sends not yet confirmed, shown under the log until their event arrives.

  addPending(item) {
    if (item.conversationId !== this.#selectedId) return;
    const node = h(
      "li",
      {
        class: item.type === "note.send" ? "note pending" : "msg from-agent is-mine pending",
        "data-testid": "pending-message",
      },
      h("div", { class: "msg-meta" }, h("span", { class: "pending-state" })),
      h("p", { class: "msg-text", text: item.text }),
      item.attachments?.length
        ? h("p", {
            class: "msg-files muted",
            text: item.attachments.map((a) => a.name || a.kind).join(", "),
          })
        : null,
    );
    this.#pendingNodes.set(item.clientId, node);
    this.updatePending(item);
    this.#pendingList.append(node);
    this.#scrollToEnd();
  }

  updatePending(item) {
    const node = this.#pendingNodes.get(item.clientId);
    if (!node) return;
    node.dataset.state = item.state;
    const label = {
      pending: "Sending…",
      queued: "Waiting for the connection…",
      sent: "Sent",
    }[item.state];
    node.querySelector(".pending-state").textContent = label ?? "";
  }

  removePending(clientId) {
    this.#pendingNodes.get(clientId)?.remove();
    this.#pendingNodes.delete(clientId);
  }

  async #read(id, log) {
    log.loading = true;
    try {
      let after = log.lastSeq;
      for (;;) {
        const query = `/events?after_seq=${after}&limit=${EVENTS_PAGE}`;
        const page = await this.#api.get(conversationPath(id, query));
        for (const event of page.events) {
          if (event.seq > log.lastSeq) {
            log.events.push(event);
            log.lastSeq = event.seq;
            this.#translation?.learn(event);
          }
        }
        if (!page.more) {
          log.lastSeq = Math.max(log.lastSeq, page.last_seq);
          break;
        }
        after = Math.max(after, page.last_seq);
      }
      log.loaded = true;
    } catch (error) {
      log.loading = false;
      log.buffer = []; // the next read fetches them again
      if (this.#logs.get(id) !== log) return;
      this.#onError(`The conversation could not be loaded: ${error.message}`);
      if (id === this.#selectedId) this.#say("The conversation could not be loaded.");
      return;
    }
    log.loading = false;
    if (this.#logs.get(id) !== log) return; // logged out meanwhile
    if (id === this.#selectedId) this.#renderAll(log);
    this.#onLog(id);
    const buffered = log.buffer.sort((a, b) => a.seq - b.seq);
    log.buffer = [];
    for (const event of buffered) this.apply(event, { fillGaps: false });
  }

  #renderAll(log) {
    this.#log.setAttribute("aria-busy", "true");
    const nodes = log.events.map((event) => this.#render(event)).filter(Boolean);
    this.#log.replaceChildren(...nodes);
    // Transcripts and descriptions go under the voice notes and photos they are about.
    for (const event of log.events) {
      if (ATTACHMENT_NOTES.has(event.type)) addAttachmentNote(this.#log, event);
    }
    this.#log.removeAttribute("aria-busy");
    this.#say(nodes.length ? "" : "Nothing has been said yet.");
    this.#scrollToEnd();
  }

  #append(event) {
    const stick = this.#nearEnd();
    if (ATTACHMENT_NOTES.has(event.type)) {
      if (addAttachmentNote(this.#log, event) && stick) this.#scrollToEnd();
      return;
    }
    const node = this.#render(event);
    if (!node) return;
    this.#say("");
    this.#log.append(node);
    const mine = event.actor?.type === "agent" && event.actor.id === this.#agentId;
    if (stick || mine) this.#scrollToEnd();
  }

  #render(event) {
    const visitor = this.#store.get(event.conversation_id)?.visitor;
    const context = { agentId: this.#agentId, visitorName: visitor?.name, api: this.#api };
    const node = renderEvent(event, context);
    this.#translation?.decorate(event, node);
    return node;
  }

  #say(text) {
    this.#placeholder.textContent = text;
    this.#placeholder.hidden = !text;
  }

  #setTyping(id, typing) {
    if (typing) this.#typingUntil.set(id, Date.now() + TYPING_SHOWN_MS);
    else this.#typingUntil.delete(id);
    if (id === this.#selectedId) this.#renderTyping();
  }

  #renderTyping() {
    clearTimeout(this.#typingTimer);
    const until = this.#typingUntil.get(this.#selectedId) ?? 0;
    const left = until - Date.now();
    const stick = this.#nearEnd();
    this.#typing.hidden = left <= 0;
    if (left > 0) {
      this.#typingTimer = setTimeout(() => this.#renderTyping(), left);
      if (stick) this.#scrollToEnd();
    }
  }

  #nearEnd() {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICKY_PX;
  }

  #scrollToEnd() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }
}

/** One event as a line of the transcript; null for a type the console does not show. */
export function renderEvent(event, context) {
  const data = event.data ?? {};
  const at = timeElement(event.at, shortTime(event.at));
  const seq = String(event.seq);
  switch (event.type) {
    case "message.created": {
      const author = event.actor?.type ?? "system";
      const mine = author === "agent" && event.actor.id === context.agentId;
      return h(
        "li",
        {
          class: `msg from-${author}${mine ? " is-mine" : ""}`,
          "data-testid": "event-message",
          "data-author": author,
          "data-seq": seq,
          "data-event-id": String(event.id),
        },
        h(
          "div",
          { class: "msg-meta" },
          h("span", { class: "msg-author", text: authorName(event.actor, context) }),
          data.via === "email" ? h("span", { class: "msg-via", text: "by email" }) : null,
          at,
        ),
        data.text || !data.attachments?.length
          ? h("p", { class: "msg-text", text: data.text ?? "" })
          : null,
        context.api ? renderAttachments(context.api, data.attachments) : null,
      );
    }
    case "message.emailed": {
      // Under an agent's reply to a shopper who had left: whether the email went out.
      const sent = data.status === "sent";
      const text = sent
        ? `Sent by email to ${data.to}`
        : `Not sent by email to ${data.to}: ${data.error ?? "failed"}`;
      const line = systemLine("event-emailed", text, seq, at);
      line.classList.add("is-email", sent ? "is-sent" : "is-failed");
      line.dataset.forEvent = String(data.event_id);
      return line;
    }
    case "note.created":
      return h(
        "li",
        { class: "note", "data-testid": "event-note", "data-seq": seq },
        h(
          "div",
          { class: "msg-meta" },
          h("span", { class: "note-label", text: "Internal note" }),
          h("span", { class: "msg-author", text: authorName(event.actor, context) }),
          at,
        ),
        h("p", { class: "msg-text", text: data.text ?? "" }),
      );
    case "conversation.status_changed":
      return systemLine("event-status", statusSentence(event, context), seq, at);
    case "conversation.context_updated": {
      const page = data.title || data.url || data.product || "a page";
      const line = systemLine("event-context", `Viewing: ${page}`, seq, at);
      if (data.url) line.title = data.url;
      line.classList.add("is-context");
      return line;
    }
    case "conversation.created":
      return systemLine("event-created", "Conversation started", seq, at);
    case HANDOFF_EVENT:
      return renderHandoffEvent(event, at);
    case "csat.requested":
      return systemLine("event-csat-requested", "The shopper was asked to rate the help", seq, at);
    case "csat.rated":
      return renderRating(event, seq, at);
    default:
      return null;
  }
}

/** The shopper's rating: stars, score and comment, and whose rating it is. */
function renderRating(event, seq, at) {
  const data = event.data ?? {};
  const score = Number.isInteger(data.score) ? Math.min(5, Math.max(1, data.score)) : 0;
  const whose = data.resolved_by === "bot" ? " (the AI agent's)" : "";
  return h(
    "li",
    { class: "system rating", "data-testid": "event-csat", "data-seq": seq },
    h("span", { class: "rating-stars", "aria-hidden": "true", text: "★".repeat(score) }),
    h("span", { class: "system-text", text: `The shopper rated the help ${score}/5${whose}` }),
    at,
    data.comment
      ? h("p", { class: "rating-comment", "data-testid": "csat-comment", text: data.comment })
      : null,
  );
}

function systemLine(testId, text, seq, at) {
  return h(
    "li",
    { class: "system", "data-testid": testId, "data-seq": seq },
    h("span", { class: "system-text", text }),
    at,
  );
}

function authorName(actor, context) {
  switch (actor?.type) {
    case "visitor":
      return context.visitorName || "Shopper";
    case "agent":
      return actor.name || "Agent";
    case "bot":
      return "AI agent";
    default:
      return "Portside";
  }
}

/** Who did it, as the subject of a sentence ("You" for the agent reading). */
function subject(actor, context) {
  if (actor?.type === "agent" && actor.id === context.agentId) return "You";
  if (actor?.type === "visitor") return "The shopper";
  if (actor?.type === "bot") return "The AI agent";
  return authorName(actor, context);
}

function statusSentence(event, context) {
  const { from, to, assignee } = event.data ?? {};
  const actor = event.actor ?? {};
  const who = subject(actor, context);
  switch (to) {
    case "assigned": {
      const verb = from === "resolved" ? "reopened" : "took";
      if (!assignee || (actor.type === "agent" && actor.id === assignee.id)) {
        return `${who} ${verb} the conversation`;
      }
      const whom = assignee.id === context.agentId ? "you" : assignee.name || "an agent";
      return from === "resolved"
        ? `${who} reopened the conversation for ${whom}`
        : `${who} assigned the conversation to ${whom}`;
    }
    case "queued":
      if (actor.type === "visitor") return "The shopper asked for a person";
      if (actor.type === "bot") return "The AI agent handed the conversation to a person";
      return `${who} put the conversation ${from === "assigned" ? "back " : ""}in the queue`;
    case "bot":
      if (actor.type === "visitor") return "The shopper wrote again; the AI agent answers";
      return `${who} handed the conversation back to the AI agent`;
    case "resolved":
      return `${who} resolved the conversation`;
    default:
      return `Status: ${statusLabel(to)}`;
  }
}
