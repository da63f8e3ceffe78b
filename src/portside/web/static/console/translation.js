// Two-way translation in the console (docs/console.md, "Translation").
//
// When a conversation opens, the server says whether the agent and the shopper need
// translating and whether the store's translator can do it, each way
// (GET .../translation). The composer's switch "Translate to German" is then on by
// default when the shopper's language is not one the agent speaks; the composer sends
// `translate: true` with each reply while it is on, and the server stores the reply in
// the shopper's language, or refuses it (nothing is stored, the text comes back). When
// no translator covers the pair, the switch is off and cannot be turned on, and a note
// above the composer says so plainly: what the agent writes goes out as written.
//
// The shopper's (and the AI agent's) messages are shown in the agent's language with the
// original one click away. A translation is asked of the server once per message and
// language (POST .../events/{id}/translations); the server keeps it as an internal
// `message.translated` event, so other agents and reloads read it from the log. The
// latest AUTO_TRANSLATED messages are translated as they are shown; older ones have a
// "Translate" button, so opening a long conversation does not send it all at once.

import { conversationPath } from "./api.js";
import { byId, h } from "./dom.js";
import { languageName } from "./format.js";

export const TRANSLATED_EVENT = "message.translated";
const AUTO_TRANSLATED = 20;
const PROVIDERS = { llm: "by the store's LLM", argos: "by Argos Translate" };

export class Translation {
  #api;
  #onError;
  #switch = byId("translate-switch");
  #toggle = byId("translate-toggle");
  #label = byId("translate-label");
  #note = byId("translation-note");
  #log = byId("transcript-log");
  #selectedId = null;
  #status = new Map(); // conversation id -> the server's answer, once read
  #choice = new Map(); // conversation id -> the switch as the agent set it
  #events = new Map(); // event id -> message event (of logs read here)
  #order = new Map(); // conversation id -> ids of its shoppers' and bot's messages, in order
  #translations = new Map(); // `${event id}:${language}` -> message.translated data
  #asked = new Map(); // `${event id}:${language}` -> "pending" or the error message
  #onToggle = () => {
    if (this.#selectedId !== null) this.#choice.set(this.#selectedId, this.#toggle.checked);
  };

  constructor({ api, onError }) {
    this.#api = api;
    this.#onError = onError;
    this.#toggle.addEventListener("change", this.#onToggle);
  }

  destroy() {
    this.#toggle.removeEventListener("change", this.#onToggle);
    for (const map of [this.#status, this.#choice, this.#events, this.#order]) map.clear();
    this.#translations.clear();
    this.#asked.clear();
    this.show(null);
  }

  /** The open conversation changed: read what translation it needs, then show it. */
  async show(id) {
    this.#selectedId = id;
    this.#render();
    if (id === null) return;
    try {
      const status = await this.#api.get(conversationPath(id, "/translation"));
      this.#status.set(id, status);
    } catch (error) {
      if (id === this.#selectedId) this.#onError(`Translation: ${error.message}`);
      return;
    }
    if (id !== this.#selectedId) return;
    this.#render();
    this.#refreshTranscript();
  }

  /** Whether a reply sent now into conversation `id` goes out translated. */
  translates(id) {
    const status = this.#status.get(id);
    if (!status || !offered(status) || !status.to_shopper) return false;
    return this.#choice.get(id) ?? status.needed;
  }

  /** An event of a log (read or live), before it is shown. */
  learn(event) {
    if (event.type === TRANSLATED_EVENT) {
      const data = event.data ?? {};
      this.#translations.set(`${data.event_id}:${data.to}`, data);
      this.#asked.delete(`${data.event_id}:${data.to}`);
      this.#redecorate(data.event_id);
      return;
    }
    if (event.type !== "message.created") return;
    this.#events.set(event.id, event);
    if (isTranslatable(event)) {
      const ids = this.#order.get(event.conversation_id) ?? [];
      if (!ids.includes(event.id)) ids.push(event.id);
      this.#order.set(event.conversation_id, ids);
    }
  }

  /** A message's line in the transcript: its translation, or its original, added. */
  decorate(event, node) {
    if (!node || event.type !== "message.created") return;
    const data = event.data ?? {};
    if (data.original && typeof data.original.text === "string") {
      node.append(originalLine(data));
      return;
    }
    if (!isTranslatable(event)) return;
    const status = this.#status.get(event.conversation_id);
    if (!status?.needed || !status.agent_language) return;
    const language = status.agent_language;
    const key = `${event.id}:${language}`;
    const translated = this.#translations.get(key);
    node.querySelector(".translation")?.remove();
    if (translated) {
      showTranslated(node, data.text ?? "", translated);
      return;
    }
    if (!status.to_agent) return; // the note above the composer says why
    const asked = this.#asked.get(key);
    if (asked === undefined && this.#isRecent(event)) {
      this.#ask(event, language);
      node.append(h("p", { class: "translation is-pending", text: "Translating…" }));
      return;
    }
    const button = h("button", {
      type: "button",
      class: "quiet translate-one",
      "data-testid": "translate-message",
      text: asked === "pending" ? "Translating…" : "Translate",
    });
    button.disabled = asked === "pending";
    button.addEventListener("click", () => this.#ask(event, language));
    const line = h("p", { class: "translation" }, button);
    if (asked && asked !== "pending") {
      line.prepend(h("span", { class: "translation-error", text: `${asked} ` }));
    }
    node.append(line);
  }

  async #ask(event, language) {
    const key = `${event.id}:${language}`;
    this.#asked.set(key, "pending");
    this.#redecorate(event.id);
    try {
      const path = conversationPath(event.conversation_id, `/events/${event.id}/translations`);
      const answer = await this.#api.post(path, { language });
      this.learn(answer.event);
    } catch (error) {
      this.#asked.set(key, `Not translated: ${error.message}`);
      this.#redecorate(event.id);
    }
  }

  #isRecent(event) {
    const ids = this.#order.get(event.conversation_id) ?? [];
    return ids.indexOf(event.id) >= ids.length - AUTO_TRANSLATED;
  }

  #redecorate(eventId) {
    const event = this.#events.get(eventId);
    if (!event || event.conversation_id !== this.#selectedId) return;
    const node = this.#log.querySelector(`[data-event-id="${CSS.escape(String(eventId))}"]`);
    if (!node) return;
    const text = node.querySelector(".msg-text");
    if (text) text.textContent = event.data?.text ?? "";
    node.classList.remove("is-translated");
    for (const extra of node.querySelectorAll(".translation, .msg-original")) extra.remove();
    this.decorate(event, node);
  }

  #refreshTranscript() {
    for (const node of this.#log.querySelectorAll("[data-event-id]")) {
      this.#redecorate(Number(node.dataset.eventId));
    }
  }

  /** The switch and the note above the composer, for the open conversation. */
  #render() {
    const status = this.#selectedId === null ? null : this.#status.get(this.#selectedId);
    const shown = Boolean(status && offered(status));
    this.#switch.hidden = !shown;
    if (shown) {
      this.#label.textContent = `Translate to ${languageName(status.shopper_language)}`;
      this.#toggle.checked = this.translates(this.#selectedId);
      this.#toggle.disabled = !status.to_shopper;
    }
    let problem = status?.needed || (shown && !status.to_shopper) ? status.problem : null;
    if (problem && !status.to_shopper) problem += " Your replies go out as you write them.";
    this.#note.textContent = problem ?? "";
    this.#note.hidden = !problem;
  }
}

/** The switch is offered when the shopper's language is known and not the agent's own. */
function offered(status) {
  return Boolean(status.shopper_language && status.agent_language) &&
    status.shopper_language !== status.agent_language;
}

function isTranslatable(event) {
  const author = event.actor?.type;
  return event.type === "message.created" && (author === "visitor" || author === "bot");
}

/** Under an agent's translated reply: what they wrote, and into what it went. */
function originalLine(data) {
  const to = languageName(data.translation?.to);
  const from = languageName(data.original.language);
  return h(
    "div",
    { class: "msg-original", "data-testid": "msg-original" },
    h("span", { class: "translation-label", text: `Sent in ${to}, translated from ${from}:` }),
    h("p", { class: "msg-original-text", text: data.original.text }),
  );
}

/** A shopper's message shown in the agent's language, the original a click away. */
function showTranslated(node, original, translated) {
  const text = node.querySelector(".msg-text");
  if (!text) return;
  text.textContent = translated.text;
  node.classList.add("is-translated");
  const toggle = h("button", {
    type: "button",
    class: "quiet link",
    "data-testid": "show-original",
    "aria-pressed": "false",
    text: "Show original",
  });
  toggle.addEventListener("click", () => {
    const showing = toggle.getAttribute("aria-pressed") === "true";
    text.textContent = showing ? translated.text : original;
    toggle.setAttribute("aria-pressed", String(!showing));
    toggle.textContent = showing ? "Show original" : "Show translation";
  });
  node.append(
    h(
      "p",
      { class: "translation", "data-testid": "translation" },
      h("span", {
        class: "translation-label",
        text: `Translated from ${languageName(translated.from)} ${PROVIDERS[translated.provider] ?? ""}`,
      }),
      " ",
      toggle,
    ),
  );
}
