// The action buttons of the selected conversation.
//
// Only the actions its state allows are shown (the state table in docs/protocol.md);
// the others are hidden and disabled. Each calls one REST endpoint; the answer's
// conversation is applied at once, and its event also arrives on the live feed.

import { conversationPath } from "./api.js";

const ACTIONS = {
  resolve: {
    allowed: (c) => c.status !== "resolved",
    path: "/resolve",
  },
  reopen: {
    allowed: (c) => c.status === "resolved",
    path: "/reopen",
  },
  take: {
    // bot or queued -> assigned to me. Of two agents taking it at once, one gets it;
    // the other is told who has it. (Moving it from a colleague: Transfer.)
    allowed: (c) => c.status === "bot" || c.status === "queued",
    path: "/take",
  },
  unassign: {
    allowed: (c) => c.status === "assigned",
    path: "/assign",
    body: () => ({ agent_id: null }),
  },
  handback: {
    allowed: (c) => c.status === "queued" || c.status === "assigned",
    path: "/handback",
  },
};

export class ActionBar {
  #api;
  #agentId;
  #onDone;
  #onError;
  #buttons = [...document.querySelectorAll("[data-action]")];
  #conversation = null;
  #busy = false;
  #listeners = [];

  /**
   * @param {object} deps
   * @param {(result: {event: object, conversation: object}) => void} deps.onDone
   * @param {(message: string) => void} deps.onError
   */
  constructor({ api, agentId, onDone, onError }) {
    this.#api = api;
    this.#agentId = agentId;
    this.#onDone = onDone;
    this.#onError = onError;
    for (const button of this.#buttons) {
      const listener = () => this.#run(button.dataset.action);
      button.addEventListener("click", listener);
      this.#listeners.push([button, listener]);
    }
    this.show(null);
  }

  destroy() {
    for (const [button, listener] of this.#listeners) button.removeEventListener("click", listener);
    this.#conversation = null;
    this.#busy = false;
    this.show(null);
  }

  /** Show the actions valid for this conversation (none for null). */
  show(conversation) {
    this.#conversation = conversation;
    for (const button of this.#buttons) {
      const action = ACTIONS[button.dataset.action];
      const allowed = Boolean(conversation && action?.allowed(conversation, this.#agentId));
      button.hidden = !allowed;
      button.disabled = !allowed || this.#busy;
    }
  }

  async #run(name) {
    const action = ACTIONS[name];
    const conversation = this.#conversation;
    if (!action || !conversation || this.#busy) return;
    this.#busy = true;
    this.show(conversation);
    try {
      const path = conversationPath(conversation.id, action.path);
      const result = await this.#api.post(path, action.body?.(this.#agentId));
      this.#onDone(result);
    } catch (error) {
      this.#onError(error.message);
    } finally {
      this.#busy = false;
      this.show(this.#conversation);
    }
  }
}
