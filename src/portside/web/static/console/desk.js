// The agent's side of routing: their presence, and moving a conversation on.
//
// Presence: the select in the top bar sets it (`presence.set` on the socket); `presence`
// frames keep it true when it changes elsewhere (another tab, the automatic away). Any
// key or click here counts as activity, told to the server at most every ACTIVITY_MS,
// which ends an automatic away.
//
// Transfer: a menu of the store's agents (with presence and load) and teams; choosing
// one calls /assign or /transfer. Agents move what is theirs or nobody's; supervisors
// and admins anything (the server decides, and says why when it refuses).

import { conversationPath } from "./api.js";
import { byId } from "./dom.js";

const ACTIVITY_MS = 30_000;
const PRESENCES = ["online", "away", "offline"];

export class PresenceControl {
  #socket;
  #agentId;
  #select = byId("presence");
  #lastActivity = 0;
  #onChange = () => this.#choose(this.#select.value);
  #onActivity = () => this.#activity();

  constructor({ socket, agentId }) {
    this.#socket = socket;
    this.#agentId = agentId;
    this.#select.addEventListener("change", this.#onChange);
    for (const kind of ["keydown", "pointerdown"]) {
      document.addEventListener(kind, this.#onActivity, { passive: true });
    }
  }

  destroy() {
    this.#select.removeEventListener("change", this.#onChange);
    for (const kind of ["keydown", "pointerdown"]) {
      document.removeEventListener(kind, this.#onActivity);
    }
  }

  /** A `presence` frame: someone's presence changed; ours shows in the select. */
  onPresence(frame) {
    if (frame.agent_id !== this.#agentId || !PRESENCES.includes(frame.presence)) return;
    this.#select.value = frame.presence;
    this.#select.dataset.state = frame.presence;
  }

  #choose(presence) {
    if (!PRESENCES.includes(presence)) return;
    this.#select.dataset.state = presence;
    this.#socket.send({ type: "presence.set", presence });
  }

  #activity() {
    const now = Date.now();
    if (now - this.#lastActivity < ACTIVITY_MS) return;
    this.#lastActivity = now;
    this.#socket.send({ type: "activity" });
  }
}

export class TransferMenu {
  #api;
  #onDone;
  #onError;
  #button = byId("transfer");
  #menu = byId("transfer-menu");
  #conversation = null;
  #onOpen = () => this.#open();

  constructor({ api, onDone, onError }) {
    this.#api = api;
    this.#onDone = onDone;
    this.#onError = onError;
    this.#button.addEventListener("click", this.#onOpen);
  }

  destroy() {
    this.#button.removeEventListener("click", this.#onOpen);
    this.#close();
  }

  show(conversation) {
    this.#conversation = conversation;
    const movable = Boolean(conversation) && conversation.status !== "resolved";
    this.#button.hidden = !movable;
    if (!movable) this.#close();
  }

  async #open() {
    if (!this.#menu.hidden) {
      this.#close();
      return;
    }
    let agents;
    let teams;
    try {
      [agents, teams] = await Promise.all([
        this.#api.get("/api/v1/agents").then((r) => r.agents),
        this.#api.get("/api/v1/teams").then((r) => r.teams ?? []),
      ]);
    } catch (error) {
      this.#onError(error.message);
      return;
    }
    const current = this.#conversation?.assignee?.id ?? null;
    const items = [];
    for (const agent of agents) {
      if (agent.id === current) continue;
      const label = `${agent.name} · ${agent.presence} · ${agent.load}/${agent.max_concurrent}`;
      items.push(this.#item(label, "agent", agent.id, `transfer-agent-${agent.id}`));
    }
    for (const team of teams) {
      items.push(this.#item(`Team ${team.name} (queue)`, "team", team.id, `transfer-team-${team.id}`));
    }
    this.#menu.replaceChildren(...items);
    this.#menu.hidden = false;
  }

  #item(label, kind, id, testId) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.testid = testId;
    button.addEventListener("click", () => this.#move(kind, id));
    const li = document.createElement("li");
    li.append(button);
    return li;
  }

  async #move(kind, id) {
    const conversation = this.#conversation;
    this.#close();
    if (!conversation) return;
    try {
      const result =
        kind === "agent"
          ? await this.#api.post(conversationPath(conversation.id, "/assign"), { agent_id: id })
          : await this.#api.post(conversationPath(conversation.id, "/transfer"), { team_id: id });
      this.#onDone(result);
    } catch (error) {
      this.#onError(error.message);
    }
  }

  #close() {
    this.#menu.hidden = true;
    this.#menu.replaceChildren();
  }
}
