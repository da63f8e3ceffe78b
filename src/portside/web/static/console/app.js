// One signed-in session of the console: the views, the socket, and the live feed that
// ties them together.
//
// The server sends every event of the conversations this agent has, of those waiting
// in the queue and of those opened here (followed); of the rest, `inbox` frames with
// what changed in their rows. Events go to the conversation store (the inbox rows), to
// the cached transcript logs and to the composer's outbox; each dedupes by seq on its
// own. News of a conversation the console does not know yet makes it fetch that
// conversation; what arrives meanwhile is held and applied after.

import { conversationPath } from "./api.js";
import { ActionBar } from "./actions.js";
import { CaseCards } from "./cases.js";
import { Composer } from "./composer.js";
import { ConversationStore } from "./conversations.js";
import { PresenceControl, TransferMenu } from "./desk.js";
import { DeleteControl } from "./erase.js";
import { SlaTimers } from "./sla.js";
import { byId, isTextEntry } from "./dom.js";
import { statusLabel } from "./format.js";
import { HANDOFF_EVENT, HandoffCard } from "./handoff.js";
import { InboxView } from "./inbox.js";
import { KnowledgeEditor } from "./knowledge.js";
import { ContextPanel } from "./panel.js";
import { ConsoleSocket } from "./socket.js";
import { SuggestionStrip } from "./suggestions.js";
import { Transcripts } from "./transcript.js";
import { Translation } from "./translation.js";

const TICK_MS = 30_000;
// The server accepts at most this many conversations in a resume map.
const MAX_RESUME = 1000;
const TITLE = "Portside console";

export class App {
  #api;
  #agent;
  #onSessionEnded;
  #onLead;
  #toast;
  #store;
  #socket;
  #inbox;
  #transcripts;
  #composer;
  #actions;
  #panel;
  #handoff;
  #cases;
  #knowledge;
  #translation;
  #suggestions;
  #presence;
  #transfer;
  #erase;
  #sla;
  #selectedId = null;
  #fetching = new Map(); // conversation id -> events and changes held while it is fetched
  #welcomedBefore = false;
  #stopped = false; // answers still in flight after stop() must not touch the page
  #tickTimer = 0;
  #onKey = (event) => this.#keydown(event);
  #onVisibility = () => this.#visibilityChanged();
  #onHash = () => this.#selectFromHash();

  /**
   * @param {object} deps
   * @param {{id: number, name: string}} deps.agent  the agent signed in
   * @param {(message: string) => void} deps.onSessionEnded  back to the login screen
   * @param {(frame: object) => void} [deps.onLead]  a `lead` frame (a hot lead)
   */
  constructor({ api, agent, toast, onSessionEnded, onLead = () => {} }) {
    this.#api = api;
    this.#agent = agent;
    this.#toast = toast;
    this.#onSessionEnded = onSessionEnded;
    this.#onLead = onLead;
    const onError = (message) => toast.show(message);
    this.#store = new ConversationStore(agent.id);
    this.#socket = new ConsoleSocket({
      resume: () => this.#resumePoints(),
      onFrame: (frame) => this.#onFrame(frame),
      onState: (state, detail) => this.#showConnection(state, detail),
      onSessionEnded: () => this.#onSessionEnded("Your session has ended; log in again."),
    });
    this.#inbox = new InboxView({
      api,
      store: this.#store,
      agentId: agent.id,
      onSelect: (id, options) => this.select(id, options),
      onError,
    });
    this.#translation = new Translation({ api, onError });
    // The transcripts ask the composer for pending sends only when they render.
    this.#transcripts = new Transcripts({
      api,
      store: this.#store,
      agentId: agent.id,
      onError,
      pendingFor: (id) => this.#composer.pendingFor(id),
      onLog: (id) => {
        if (id === this.#selectedId) this.#showHandoff();
      },
      translation: this.#translation,
    });
    this.#composer = new Composer({
      api,
      socket: this.#socket,
      transcripts: this.#transcripts,
      isApplied: (id, seq) => this.#transcripts.hasApplied(id, seq),
      onLeave: () => this.#inbox.focusRow(this.#selectedId) || byId("conversation-list").focus(),
      onError,
      translates: (id) => this.#translation.translates(id),
    });
    this.#actions = new ActionBar({
      api,
      agentId: agent.id,
      onDone: (result) => this.#actionDone(result),
      onError,
    });
    this.#presence = new PresenceControl({ socket: this.#socket, agentId: agent.id });
    this.#sla = new SlaTimers({ api, store: this.#store, agentId: agent.id, toast });
    this.#transfer = new TransferMenu({
      api,
      onDone: (result) => this.#actionDone(result),
      onError,
    });
    this.#erase = new DeleteControl({ api, agent, onDeleted: (id) => this.#deleted(id) });
    this.#panel = new ContextPanel();
    this.#handoff = new HandoffCard();
    this.#cases = new CaseCards({ api, onError });
    this.#knowledge = new KnowledgeEditor({ api, agent, onError });
    this.#suggestions = new SuggestionStrip({ api, onUse: (text) => this.#composer.useText(text) });
  }

  async start() {
    byId("agent-name").textContent = this.#agent.name;
    this.#showConnection("connecting", {});
    document.addEventListener("keydown", this.#onKey);
    document.addEventListener("visibilitychange", this.#onVisibility);
    window.addEventListener("hashchange", this.#onHash);
    this.#tickTimer = setInterval(() => {
      this.#inbox.tick();
      this.#panel.tick();
      this.#handoff.tick();
    }, TICK_MS);
    this.#updateTitle();
    this.#selectFromHash();
    // The first page before the socket: the hello then resumes from those rows, so no
    // event between the page and the connection is missed.
    await this.#inbox.load();
    this.#socket.start();
    this.#sla.start();
  }

  stop() {
    this.#stopped = true;
    this.#socket.stop();
    document.removeEventListener("keydown", this.#onKey);
    document.removeEventListener("visibilitychange", this.#onVisibility);
    window.removeEventListener("hashchange", this.#onHash);
    clearInterval(this.#tickTimer);
    this.#inbox.destroy();
    this.#transcripts.destroy();
    this.#composer.destroy();
    this.#actions.destroy();
    this.#cases.destroy();
    this.#knowledge.destroy();
    this.#translation.destroy();
    this.#suggestions.destroy();
    this.#presence.destroy();
    this.#sla.stop();
    this.#transfer.destroy();
    this.#erase.destroy();
    this.#handoff.show(null);
    this.#panel.show(null);
    this.#showHeader(null);
    history.replaceState(null, "", location.pathname);
    document.title = TITLE;
  }

  /** Open a conversation: transcript, composer, context, actions. */
  async select(id, { focusRow = false } = {}) {
    if (!Number.isInteger(id) || id <= 0) return;
    if (id === this.#selectedId) {
      if (focusRow) this.#inbox.focusRow(id);
      return;
    }
    this.#selectedId = id;
    // Every event of it from now on; its transcript reads what came before.
    this.#socket.send({ type: "follow", conversation_id: id });
    this.#store.markRead(id);
    if (location.hash !== `#conversation-${id}`) {
      history.replaceState(null, "", `#conversation-${id}`);
    }
    this.#inbox.setSelected(id);
    if (focusRow) this.#inbox.focusRow(id);
    this.#composer.setConversation(id);
    this.#transcripts.show(id);
    this.#showHandoff();
    this.#cases.show(id);
    this.#translation.show(id);
    this.#suggestions.show(id);
    this.#showSelected();
    this.#updateTitle();
    try {
      const conversation = this.#store.upsert(await this.#api.get(conversationPath(id)));
      this.#changed(conversation);
    } catch (error) {
      if (this.#selectedId !== id || this.#stopped) return;
      this.#toast.show(error.message);
      if (error.status === 404) this.#deselect();
    }
  }

  #deselect() {
    this.#selectedId = null;
    history.replaceState(null, "", location.pathname);
    this.#inbox.setSelected(null);
    this.#composer.setConversation(null);
    this.#transcripts.show(null);
    this.#showHandoff();
    this.#cases.show(null);
    this.#translation.show(null);
    this.#suggestions.show(null);
    this.#showSelected();
  }

  /** The latest handoff context of the open conversation, pinned above its transcript. */
  #showHandoff() {
    const id = this.#selectedId;
    this.#handoff.show(id === null ? null : this.#transcripts.latest(id, HANDOFF_EVENT));
  }

  #selectFromHash() {
    const match = /^#conversation-(\d+)$/.exec(location.hash);
    if (match && Number(match[1]) !== this.#selectedId) this.select(Number(match[1]));
  }

  #onFrame(frame) {
    if (this.#stopped) return;
    switch (frame.type) {
      case "welcome":
        this.#composer.setLimits(frame.limits);
        this.#composer.flush();
        // Back after a drop: the replay brings the missed events of what is loaded;
        // the inbox page is read again for conversations that are new to it.
        if (this.#welcomedBefore) this.#inbox.load();
        this.#welcomedBefore = true;
        if (this.#selectedId !== null) {
          this.#socket.send({ type: "follow", conversation_id: this.#selectedId });
        }
        break;
      case "event":
        if (frame.event) this.#onEvent(frame.event);
        break;
      case "inbox":
        for (const change of frame.conversations ?? []) this.#onInboxChange(change);
        break;
      case "ack":
        this.#composer.onAck(frame);
        break;
      case "error":
        if (!this.#composer.onError(frame)) {
          this.#toast.show(frame.message ?? "Something went wrong.");
        }
        break;
      case "typing":
        this.#transcripts.onTyping(frame);
        break;
      case "presence":
        this.#presence.onPresence(frame);
        break;
      case "lead":
        this.#onLead(frame);
        break;
      case "conversation.deleted":
        if (Number.isInteger(frame.conversation_id)) this.#deleted(frame.conversation_id);
        break;
      default:
        break; // pong, synced: nothing to do
    }
  }

  #onEvent(event) {
    const id = event.conversation_id;
    this.#transcripts.apply(event);
    this.#composer.confirm(event);
    this.#cases.onEvent(event);
    this.#suggestions.onEvent(event);
    const fromShopper = event.type === "message.created" && event.actor?.type === "visitor";

    if (this.#holdIfNew(id, event, fromShopper)) return;
    if (!this.#store.applyEvent(event)) return; // a replay of what is known
    if (fromShopper) this.#markUnread(id);
    this.#changed(this.#store.get(id));
  }

  /** An `inbox` frame's change to one row (docs/protocol.md). */
  #onInboxChange(change) {
    if (!Number.isInteger(change?.id)) return;
    const fromShopper = change.last_from === "visitor";
    if (this.#holdIfNew(change.id, change, fromShopper)) return;
    if (!this.#store.applyChange(change)) return; // its events came first
    if (fromShopper) this.#markUnread(change.id);
    this.#changed(this.#store.get(change.id));
  }

  /** News of a conversation not held yet: keep it until its row is fetched. */
  #holdIfNew(id, news, fromShopper) {
    const held = this.#fetching.get(id);
    if (!held && this.#store.get(id)) return false;
    // New to this console, so new to the agent too.
    if (fromShopper) this.#markUnread(id);
    if (held) held.push(news);
    else this.#fetchNew(id, news);
    return true;
  }

  /** A conversation first heard of live: fetch its row, then apply what came. */
  async #fetchNew(id, news) {
    const held = [news];
    this.#fetching.set(id, held);
    try {
      await this.#inbox.fetchConversation(id);
    } catch {
      return; // gone, or the network is: the next inbox load or event brings it
    } finally {
      this.#fetching.delete(id);
    }
    for (const later of held) {
      if (later.type) this.#store.applyEvent(later);
      else this.#store.applyChange(later);
    }
    this.#changed(this.#store.get(id));
  }

  /** A conversation changed: its row, and the panels if it is the one open. */
  #changed(conversation) {
    if (!conversation || this.#stopped) return;
    if (conversation.status === "resolved") this.#store.markRead(conversation.id);
    this.#inbox.update(conversation);
    if (conversation.id === this.#selectedId) this.#showSelected();
    this.#updateTitle();
  }

  #actionDone(result) {
    if (result?.conversation) this.#changed(this.#store.upsert(result.conversation));
  }

  #showSelected() {
    const conversation = this.#selectedId === null ? null : this.#store.get(this.#selectedId);
    this.#panel.show(conversation);
    this.#actions.show(conversation);
    this.#transfer.show(conversation);
    this.#erase.show(conversation);
    this.#showHeader(conversation);
  }

  /** A conversation was deleted (here, or by another admin): it leaves every view. */
  #deleted(id) {
    if (this.#stopped) return;
    this.#store.remove(id);
    this.#fetching.delete(id);
    this.#inbox.remove(id);
    this.#transcripts.forget(id);
    if (id === this.#selectedId) {
      this.#deselect();
      this.#toast.show(`Conversation #${id} was deleted.`);
    }
    this.#updateTitle();
  }

  #showHeader(conversation) {
    const title = byId("conversation-title");
    const meta = byId("conversation-meta");
    if (!conversation) {
      title.textContent = this.#selectedId === null ? "No conversation open" : "Loading…";
      meta.textContent = "";
      return;
    }
    const visitor = conversation.visitor ?? {};
    title.textContent = visitor.name || visitor.email || `Visitor ${visitor.id ?? ""}`.trim();
    const who = conversation.assignee
      ? conversation.assignee.id === this.#agent.id
        ? "with you"
        : `with ${conversation.assignee.name ?? "another agent"}`
      : "";
    meta.textContent = [`#${conversation.id}`, statusLabel(conversation.status), who]
      .filter(Boolean)
      .join(" · ");
  }

  #markUnread(id) {
    if (id === this.#selectedId && !document.hidden) return;
    this.#store.markUnread(id);
  }

  #visibilityChanged() {
    if (document.hidden || this.#selectedId === null) return;
    this.#store.markRead(this.#selectedId);
    const conversation = this.#store.get(this.#selectedId);
    if (conversation) this.#inbox.update(conversation);
    this.#updateTitle();
  }

  #updateTitle() {
    const count = this.#store.unreadCount;
    document.title = count ? `(${count}) ${TITLE}` : TITLE;
  }

  /** The transcripts read here, newest last: the server replays and follows them. */
  #resumePoints() {
    const points = {};
    for (const [id, seq] of [...this.#transcripts.resumePoints()].slice(-MAX_RESUME)) {
      points[String(id)] = seq;
    }
    return points;
  }

  #showConnection(state, { retryAt } = {}) {
    const node = byId("connection-status");
    node.dataset.state = state;
    // Said once per change (it is a live region): no second-by-second countdown.
    node.textContent = {
      connected: "Connected",
      connecting: "Connecting…",
      offline: "Offline, reconnecting soon",
    }[state];
    node.title = retryAt ? `Next attempt at ${new Date(retryAt).toLocaleTimeString()}` : "";
  }

  #keydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTextEntry(event.target)) return; // the composer handles its own keys
    if (document.querySelector("dialog[open]")) return; // the knowledge editor is in front
    switch (event.key) {
      case "j":
      case "ArrowDown":
        this.#move(1);
        break;
      case "k":
      case "ArrowUp":
        this.#move(-1);
        break;
      case "r":
        this.#composer.focus("reply");
        break;
      case "n":
        this.#composer.focus("note");
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  #move(delta) {
    const id = this.#inbox.neighbour(delta);
    if (id !== null && id !== this.#selectedId) this.select(id, { focusRow: true });
    else if (id !== null) this.#inbox.focusRow(id);
  }
}
