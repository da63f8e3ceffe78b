// Live SLA timers in the inbox, and a warning before one is missed.
//
// The store's targets come from /api/v1/settings/sla; each conversation carries the
// times its clocks run from (handoff_at, first_reply_at, awaiting_since), kept current
// by the live feed (conversations.js). Every second each row's soonest clock is shown
// counting down, then up once overdue; a clock of this agent's conversation, or of one
// waiting in the queue, that enters its warning time raises one toast. The rules are the
// server's (domain/sla.py).

const TICK_MS = 1000;

/** The clocks running for a conversation, soonest first: [{kind, due}] (due in ms). */
export function runningClocks(conversation, targets) {
  if (!targets || !conversation?.handoff_at) return [];
  if (conversation.status === "resolved" || conversation.status === "bot") return [];
  const start = Date.parse(conversation.handoff_at);
  const clocks = [];
  if (!conversation.first_reply_at && targets.first_response_s) {
    clocks.push({ kind: "first_response", due: start + targets.first_response_s * 1000 });
  }
  if (conversation.first_reply_at && conversation.awaiting_since && targets.next_response_s) {
    const waiting = Date.parse(conversation.awaiting_since);
    clocks.push({ kind: "next_response", due: waiting + targets.next_response_s * 1000 });
  }
  if (targets.resolution_s) {
    clocks.push({ kind: "resolution", due: start + targets.resolution_s * 1000 });
  }
  return clocks.sort((a, b) => a.due - b.due);
}

const LABELS = {
  first_response: "First reply",
  next_response: "Reply",
  resolution: "Resolve",
};

function clockText(ms) {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const m = Math.floor(s / 60);
  const rest = String(s % 60).padStart(2, "0");
  return m >= 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${m}:${rest}`;
}

export class SlaTimers {
  #api;
  #store;
  #agentId;
  #toast;
  #targets = null;
  #timer = 0;
  #warned = new Set(); // "id:kind:due" already warned about

  constructor({ api, store, agentId, toast }) {
    this.#api = api;
    this.#store = store;
    this.#agentId = agentId;
    this.#toast = toast;
  }

  async start() {
    try {
      this.#targets = await this.#api.get("/api/v1/settings/sla");
    } catch {
      this.#targets = null; // no timers, but the console works on
    }
    this.#timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  stop() {
    clearInterval(this.#timer);
  }

  tick() {
    if (!this.#targets) return;
    const now = Date.now();
    const warnMs = (this.#targets.warn_before_s ?? 60) * 1000;
    for (const row of document.querySelectorAll("#conversation-list [data-conversation-id]")) {
      const conversation = this.#store.get(Number(row.dataset.conversationId));
      const badge = row.querySelector(".sla");
      if (!conversation || !badge) continue;
      const [clock] = runningClocks(conversation, this.#targets);
      if (!clock) {
        badge.hidden = true;
        continue;
      }
      const left = clock.due - now;
      const state = left <= 0 ? "breached" : left <= warnMs ? "warning" : "ok";
      badge.hidden = false;
      badge.dataset.state = state;
      badge.dataset.kind = clock.kind;
      badge.textContent =
        left > 0
          ? `${LABELS[clock.kind]} in ${clockText(left)}`
          : `${LABELS[clock.kind]} overdue ${clockText(left)}`;
      this.#warn(conversation, clock, state);
    }
  }

  #warn(conversation, clock, state) {
    if (state === "ok") return;
    const mine = conversation.assignee?.id === this.#agentId;
    if (!mine && conversation.status !== "queued") return;
    const key = `${conversation.id}:${clock.kind}:${clock.due}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    const who = conversation.visitor?.name || `Visitor ${conversation.visitor?.id ?? ""}`;
    const what = LABELS[clock.kind].toLowerCase();
    this.#toast.show(
      state === "breached"
        ? `SLA missed: ${what} for ${who}.`
        : `SLA: ${what} for ${who} is due soon.`,
    );
  }
}
