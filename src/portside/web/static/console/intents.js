// A store's own intents in the console: labelling shoppers' messages, and the Intents view.
//
// On each shopper message of the open transcript, what the AI agent understood (from its
// reply's `data.bot`, via GET .../conversations/{id}/intents) and a small select to
// confirm or correct it: saving records the message as a labelled example (PUT
// .../messages/{event id}/intent); saving again replaces the label. The transcript's
// lines carry `data-event-id`; this module watches the log for them, so the transcript
// itself knows nothing of intents.
//
// The Intents view lists the store's own intents with their example counts and the
// model's status, accuracy before and after; admins add and delete intents and retrain.
// Every text goes in as text (dom.js `h`), never as markup.

import { conversationPath } from "./api.js";
import { byId, h } from "./dom.js";

const REFRESH_MS = 300;
const POLL_MS = 2000;

export class IntentLabels {
  #api;
  #onError;
  #log = byId("transcript-log");
  #observer = new MutationObserver(() => this.#changed());
  #intents = []; // [{name, source}]
  #messages = {}; // event id -> {predicted, confidence, label}
  #conversationId = null;
  #timer = 0;
  #stopped = false;
  #onHash = () => this.#changed();

  /** @param {{api: object, onError: (message: string) => void}} deps */
  constructor({ api, onError }) {
    this.#api = api;
    this.#onError = onError;
  }

  start() {
    this.#observer.observe(this.#log, { childList: true });
    window.addEventListener("hashchange", this.#onHash);
    this.loadIntents();
    this.#changed();
  }

  stop() {
    this.#stopped = true;
    this.#observer.disconnect();
    window.removeEventListener("hashchange", this.#onHash);
    clearTimeout(this.#timer);
  }

  /** The choices: the catalogue's intents and the store's own (read again after edits). */
  async loadIntents() {
    try {
      const answer = await this.#api.get("/api/v1/intents");
      this.#intents = answer.intents ?? [];
    } catch (error) {
      this.#onError(`The intents could not be loaded: ${error.message}`);
      return;
    }
    if (!this.#stopped) this.#decorateAll(true);
  }

  #changed() {
    const id = openConversation();
    if (id !== this.#conversationId) {
      this.#conversationId = id;
      this.#messages = {};
    }
    this.#decorateAll(false);
    // The bot's reply, with what it understood, follows the shopper's message.
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#refresh(), REFRESH_MS);
  }

  async #refresh() {
    const id = this.#conversationId;
    if (id === null || this.#stopped) return;
    let answer;
    try {
      answer = await this.#api.get(conversationPath(id, "/intents"));
    } catch {
      return; // the transcript reports a conversation it cannot read
    }
    if (id !== this.#conversationId || this.#stopped) return;
    this.#messages = answer.messages ?? {};
    this.#decorateAll(true);
  }

  #decorateAll(again) {
    for (const line of this.#log.querySelectorAll('li[data-author="visitor"][data-event-id]')) {
      const old = line.querySelector(":scope > .intent-label");
      if (old && !again) continue;
      const control = this.#control(line.dataset.eventId);
      if (old) old.replaceWith(control);
      else line.append(control);
    }
  }

  #control(eventId) {
    const known = this.#messages[eventId] ?? {};
    const chosen = known.label ?? known.predicted ?? "";
    const select = h(
      "select",
      { "data-testid": "intent-select", "aria-label": "Intent of this message" },
      h("option", { value: "", text: "Choose an intent…" }),
      this.#intents.map((intent) =>
        h("option", {
          value: intent.name,
          text: intent.source === "store" ? `${intent.name} (store)` : intent.name,
          selected: intent.name === chosen,
        }),
      ),
    );
    const status = h("span", { class: "intent-status", "data-testid": "intent-status" });
    const understood = known.predicted
      ? `AI understood: ${known.predicted}${percent(known.confidence)}`
      : "Not answered by the AI agent";
    const save = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "intent-save",
      text: known.label ? "Save" : "Confirm",
    });
    if (known.label) status.textContent = `Labelled: ${known.label}`;
    save.addEventListener("click", () => this.#save(eventId, select, status, save));
    select.addEventListener("change", () => {
      save.textContent = select.value === known.predicted && !known.label ? "Confirm" : "Save";
    });
    return h(
      "div",
      { class: "intent-label", "data-testid": "intent-label" },
      h("span", { class: "intent-understood", "data-testid": "intent-predicted", text: understood }),
      select,
      save,
      status,
    );
  }

  async #save(eventId, select, status, button) {
    const id = this.#conversationId;
    if (id === null) return;
    if (!select.value) {
      status.textContent = "Choose an intent first.";
      return;
    }
    button.disabled = true;
    status.textContent = "Saving…";
    try {
      const path = conversationPath(id, `/messages/${encodeURIComponent(eventId)}/intent`);
      const example = await this.#api.put(path, { intent: select.value });
      const known = this.#messages[eventId] ?? { predicted: null, confidence: null };
      this.#messages[eventId] = { ...known, label: example.intent };
      status.textContent = `Labelled: ${example.intent}`;
      button.textContent = "Save";
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }
}

/** The Intents view: the store's own intents, the model's status, retraining. */
export class IntentsView {
  #api;
  #isAdmin;
  #onError;
  #onChanged;
  #dialog;
  #status;
  #retrain;
  #list;
  #form;
  #formError;
  #button;
  #poll = 0;

  /**
   * @param {object} deps
   * @param {() => void} deps.onChanged  the store's intents changed (the choices too)
   */
  constructor({ api, agent, onError, onChanged }) {
    this.#api = api;
    this.#isAdmin = agent.role === "admin";
    this.#onError = onError;
    this.#onChanged = onChanged;
    this.#status = h("p", { class: "intents-status", "data-testid": "model-status", role: "status" });
    this.#retrain = h("button", {
      type: "button",
      class: "primary",
      "data-testid": "retrain",
      text: "Retrain",
      hidden: !this.#isAdmin,
    });
    this.#retrain.addEventListener("click", () => this.#startRetrain());
    this.#list = h("ul", { class: "intents-list", "data-testid": "intents-list" });
    this.#formError = h("p", { class: "intents-error", role: "alert", hidden: true });
    this.#form = h(
      "form",
      { class: "intents-form", "data-testid": "intent-form", novalidate: true, hidden: !this.#isAdmin },
      h("label", { text: "Name", for: "intent-name" }),
      h("input", { id: "intent-name", name: "name", "data-testid": "intent-name", maxlength: 64 }),
      h("label", { text: "What shoppers mean by it", for: "intent-description" }),
      h("input", {
        id: "intent-description",
        name: "description",
        "data-testid": "intent-description",
        maxlength: 500,
      }),
      this.#formError,
      h("button", { type: "submit", "data-testid": "intent-add", text: "Add intent" }),
    );
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#add();
    });
    const close = h("button", { type: "button", class: "quiet", text: "Close" });
    close.addEventListener("click", () => this.#dialog.close());
    this.#dialog = h(
      "dialog",
      { class: "intents", "data-testid": "intents-dialog", "aria-labelledby": "intents-heading" },
      h(
        "header",
        { class: "intents-head" },
        h("h2", { id: "intents-heading", text: "Intents" }),
        h("span", { class: "topbar-spacer" }),
        close,
      ),
      h(
        "p",
        { class: "muted" },
        "The store's own intents, next to the catalogue's. Label shoppers' messages in ",
        "conversations, then retrain: accuracy is measured on the store's labelled examples.",
      ),
      h("div", { class: "intents-model" }, this.#status, this.#retrain),
      this.#list,
      this.#form,
    );
    this.#dialog.addEventListener("close", () => clearTimeout(this.#poll));
    document.body.append(this.#dialog);
    this.#button = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "open-intents",
      text: "Intents",
    });
    this.#button.addEventListener("click", () => this.open());
    byId("agent-name").before(this.#button);
  }

  destroy() {
    clearTimeout(this.#poll);
    if (this.#dialog.open) this.#dialog.close();
    this.#dialog.remove();
    this.#button.remove();
  }

  async open() {
    if (!this.#dialog.open) this.#dialog.showModal();
    await Promise.all([this.#loadIntents(), this.#loadModel()]);
  }

  async #loadIntents() {
    let answer;
    try {
      answer = await this.#api.get("/api/v1/intents");
    } catch (error) {
      this.#onError(`The intents could not be loaded: ${error.message}`);
      return;
    }
    const own = (answer.intents ?? []).filter((intent) => intent.source === "store");
    this.#list.replaceChildren(
      ...(own.length
        ? own.map((intent) => this.#row(intent))
        : [h("li", { class: "muted", text: "No intents of the store's own yet." })]),
    );
  }

  #row(intent) {
    const count = `${intent.examples} example${intent.examples === 1 ? "" : "s"}`;
    let remove = null;
    if (this.#isAdmin) {
      remove = h("button", { type: "button", class: "quiet", text: "Delete" });
      remove.addEventListener("click", () => this.#remove(intent.name));
    }
    return h(
      "li",
      { class: "intents-row", "data-testid": "intent-row", "data-name": intent.name },
      h("strong", { text: intent.name }),
      h("span", { class: "muted", text: count }),
      remove ?? h("span"),
      h("p", { class: "intents-description", text: intent.description }),
    );
  }

  async #loadModel() {
    clearTimeout(this.#poll);
    let state;
    try {
      state = await this.#api.get("/api/v1/intents/model");
    } catch (error) {
      this.#status.textContent = `The model's status could not be read: ${error.message}`;
      return;
    }
    this.#status.textContent = describeModel(state);
    this.#status.dataset.state = state.status;
    this.#retrain.disabled = state.status === "training";
    if (state.status === "training" && this.#dialog.open) {
      this.#poll = setTimeout(() => this.#loadModel(), POLL_MS);
    }
  }

  async #startRetrain() {
    this.#retrain.disabled = true;
    try {
      await this.#api.post("/api/v1/intents/retrain");
    } catch (error) {
      this.#onError(error.message);
    }
    await this.#loadModel();
  }

  async #add() {
    const data = new FormData(this.#form);
    this.#formError.hidden = true;
    try {
      await this.#api.post("/api/v1/intents", {
        name: String(data.get("name") ?? "").trim(),
        description: String(data.get("description") ?? ""),
      });
    } catch (error) {
      this.#formError.textContent = error.message;
      this.#formError.hidden = false;
      return;
    }
    this.#form.reset();
    await this.#loadIntents();
    this.#onChanged();
  }

  async #remove(name) {
    try {
      await this.#api.delete(`/api/v1/intents/${encodeURIComponent(name)}`);
    } catch (error) {
      this.#onError(error.message);
      return;
    }
    await this.#loadIntents();
    this.#onChanged();
  }
}

/** One sentence on the store's model. */
export function describeModel(state) {
  const examples = `${state.examples} labelled example${state.examples === 1 ? "" : "s"}`;
  if (state.status === "training") return `Training on ${examples}…`;
  const failed = state.status === "failed" ? `The last training failed: ${state.error} ` : "";
  if (!state.version) return `${failed}The store uses the default model; ${examples}.`;
  const when = state.trained_at ? new Date(state.trained_at).toLocaleString() : "";
  return (
    `${failed}Model v${state.version}, trained ${when} on ${state.n_examples} examples: ` +
    `accuracy ${percentOf(state.accuracy_before)} before, ${percentOf(state.accuracy_after)} ` +
    `after (${state.folds}-fold). ${examples} now.`
  );
}

function percent(confidence) {
  return typeof confidence === "number" ? ` (${Math.round(confidence * 100)}%)` : "";
}

function percentOf(value) {
  return typeof value === "number" ? `${Math.round(value * 100)}%` : "—";
}

function openConversation() {
  const match = /^#conversation-(\d+)$/.exec(location.hash);
  return match ? Number(match[1]) : null;
}

/** Both parts, started for one signed-in session; `stop()` undoes everything. */
export function startIntents({ api, agent, toast }) {
  const onError = (message) => toast.show(message);
  const labels = new IntentLabels({ api, onError });
  const view = new IntentsView({ api, agent, onError, onChanged: () => labels.loadIntents() });
  labels.start();
  return {
    stop() {
      labels.stop();
      view.destroy();
    },
  };
}
