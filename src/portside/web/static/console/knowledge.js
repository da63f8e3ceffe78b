// The knowledge editor: the store's FAQ and policy entries the AI agent answers with.
//
// Every agent can read them; only the store's admins can create, change or delete one
// (the server refuses the others as well). An entry is an id, the intents it answers
// (choices from GET /api/v1/intents) and a title and a text per language. The server
// checks everything and names the field of what is wrong (`details: [{field,
// problem}]`, field `id`, `intents`, `title`, `text`, or `title.es`, `text.es`); the
// problem is shown next to that field. Titles and texts are set as text, never markup.

import { byId, h } from "./dom.js";
import { languageName } from "./format.js";

const LANGUAGE = /^[a-z]{2,3}$/;
const MAX_TITLE = 200;
const MAX_TEXT = 2000;

export class KnowledgeEditor {
  #api;
  #isAdmin;
  #onError;
  #dialog = byId("knowledge-dialog");
  #list = byId("knowledge-list");
  #form = byId("knowledge-form");
  #newButton = byId("knowledge-new");
  #intents = []; // [{name, description}]
  #entries = [];
  #current = null; // the entry being edited; null for a new one
  #saving = false;
  #listeners = [];

  /** @param {{api: object, agent: {role: string}, onError: (m: string) => void}} deps */
  constructor({ api, agent, onError }) {
    this.#api = api;
    this.#isAdmin = agent.role === "admin";
    this.#onError = onError;
    this.#on(byId("open-knowledge"), "click", () => this.open());
    this.#on(byId("knowledge-close"), "click", () => this.#dialog.close());
    this.#on(this.#newButton, "click", () => this.#edit(null));
    this.#on(this.#form, "submit", (event) => {
      event.preventDefault();
      this.#save();
    });
    this.#newButton.hidden = !this.#isAdmin;
  }

  destroy() {
    for (const [node, type, listener] of this.#listeners) node.removeEventListener(type, listener);
    this.#listeners = [];
    if (this.#dialog.open) this.#dialog.close();
    this.#list.replaceChildren();
    this.#form.replaceChildren();
  }

  #on(node, type, listener) {
    node.addEventListener(type, listener);
    this.#listeners.push([node, type, listener]);
  }

  /** Open the editor with the store's entries, read afresh. */
  async open() {
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    this.#form.hidden = true;
    try {
      const [intents, knowledge] = await Promise.all([
        this.#intents.length ? { intents: this.#intents } : this.#api.get("/api/v1/intents"),
        this.#api.get("/api/v1/knowledge"),
      ]);
      this.#intents = intents.intents;
      this.#entries = knowledge.entries;
    } catch (error) {
      this.#list.replaceChildren(
        h("li", { class: "field-error", text: `The knowledge could not be loaded: ${error.message}` }),
      );
      return;
    }
    this.#renderList();
    const again = this.#current && this.#entries.find((e) => e.id === this.#current.id);
    if (again) this.#edit(again);
    else if (this.#entries.length) this.#edit(this.#entries[0]);
    else if (this.#isAdmin) this.#edit(null);
  }

  #renderList() {
    if (!this.#entries.length) {
      this.#list.replaceChildren(h("li", { class: "muted", text: "No entries yet." }));
      return;
    }
    this.#list.replaceChildren(
      ...this.#entries.map((entry) => {
        const button = h(
          "button",
          {
            type: "button",
            class: "knowledge-item",
            "data-testid": "knowledge-entry",
            "data-entry-id": entry.id,
            "aria-current": this.#current?.id === entry.id ? "true" : null,
          },
          h("strong", { text: pickText(entry.title) || entry.id }),
          h("span", { class: "muted", text: `${entry.id} · ${(entry.intents ?? []).join(", ")}` }),
        );
        button.addEventListener("click", () => this.#edit(entry));
        return h("li", {}, button);
      }),
    );
  }

  /** Show an entry in the form (a blank one for null). */
  #edit(entry) {
    this.#current = entry;
    this.#renderList();
    const readOnly = !this.#isAdmin;
    const languages = entry ? unionKeys(entry.title, entry.text) : ["en"];
    const chosen = new Set(entry?.intents ?? []);
    // An intent the catalogue no longer lists stays choosable rather than dropped.
    const choices = [...this.#intents];
    for (const name of chosen) {
      if (!choices.some((c) => c.name === name)) choices.push({ name, description: "" });
    }

    const idInput = h("input", {
      id: "knowledge-id",
      name: "id",
      "data-testid": "knowledge-id",
      maxlength: "100",
      placeholder: "returns-window",
      readonly: Boolean(entry) || readOnly,
      "aria-describedby": "knowledge-id-help knowledge-id-error",
    });
    idInput.value = entry?.id ?? "";

    const intentBoxes = choices.map((choice) => {
      const box = h("input", {
        type: "checkbox",
        name: "intents",
        value: choice.name,
        "data-testid": "knowledge-intent",
        disabled: readOnly,
      });
      box.checked = chosen.has(choice.name);
      return h(
        "label",
        { class: "knowledge-intent", title: choice.description || null },
        box,
        h("span", { text: choice.name }),
      );
    });

    const rows = h("div", { class: "knowledge-languages" });
    for (const lang of languages) {
      rows.append(languageRow(lang, entry?.title?.[lang] ?? "", entry?.text?.[lang] ?? "", readOnly));
    }
    const addLanguage = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "knowledge-add-language",
      text: "Add a language",
    });
    addLanguage.addEventListener("click", () => {
      const row = languageRow("", "", "", false);
      rows.append(row);
      row.querySelector("[data-testid='knowledge-lang-code']").focus();
    });

    const save = h("button", {
      type: "submit",
      class: "primary",
      "data-testid": "knowledge-save",
      text: entry ? "Save" : "Create entry",
    });
    const remove = entry
      ? h("button", { type: "button", class: "danger", "data-testid": "knowledge-delete", text: "Delete" })
      : null;
    remove?.addEventListener("click", () => this.#delete(remove));

    const parts = [
      readOnly
        ? h("p", {
            class: "knowledge-readonly",
            "data-testid": "knowledge-readonly",
            text: "Only the store's admins can change the knowledge; you can read it.",
          })
        : null,
      h("label", { for: "knowledge-id", text: "Id" }),
      idInput,
      h("p", {
        id: "knowledge-id-help",
        class: "muted small",
        text: entry
          ? "The id of an entry cannot change."
          : "Lowercase letters, digits and hyphens, like returns-window.",
      }),
      fieldError("id", "knowledge-id-error"),
      h(
        "fieldset",
        { class: "knowledge-intents" },
        h("legend", { text: "Intents it answers" }),
        h("div", { class: "knowledge-intent-grid" }, ...intentBoxes),
        fieldError("intents"),
      ),
      h(
        "fieldset",
        { class: "knowledge-texts" },
        h("legend", { text: "Title and text by language" }),
        rows,
        fieldError("title"),
        fieldError("text"),
        readOnly ? null : addLanguage,
      ),
      h("p", { class: "field-error", "data-testid": "knowledge-form-error", role: "alert", hidden: true }),
      h("p", { class: "knowledge-saved", "data-testid": "knowledge-status", role: "status" }),
      readOnly ? null : h("div", { class: "knowledge-actions" }, save, remove),
    ];
    // replaceChildren() would write a null as the text "null".
    this.#form.replaceChildren(...parts.filter(Boolean));
    this.#form.hidden = false;
  }

  /** The form as the API's body, or null after showing what must be fixed first. */
  #read() {
    const form = this.#form;
    const intents = [...form.querySelectorAll("input[name='intents']:checked")].map((b) => b.value);
    const title = {};
    const text = {};
    let ok = true;
    const seen = new Set();
    for (const row of form.querySelectorAll("[data-testid='knowledge-language']")) {
      const codeInput = row.querySelector("[data-testid='knowledge-lang-code']");
      const code = codeInput.value.trim().toLowerCase();
      codeInput.value = code;
      row.dataset.lang = code;
      let problem = "";
      if (!LANGUAGE.test(code)) problem = "A language code is 2 or 3 lowercase letters, like en or pt.";
      else if (seen.has(code)) problem = `${code} is in the list twice.`;
      if (problem) {
        showError(row.querySelector("[data-error-for='code']"), problem);
        ok = false;
        continue;
      }
      seen.add(code);
      title[code] = row.querySelector("[data-testid='knowledge-title']").value;
      text[code] = row.querySelector("[data-testid='knowledge-text']").value;
    }
    const id = form.querySelector("[data-testid='knowledge-id']").value.trim();
    if (!id) {
      showError(form.querySelector("[data-error-for='id']"), "An entry needs an id.");
      ok = false;
    }
    return ok ? { id, body: { intents, title, text } } : null;
  }

  async #save() {
    if (this.#saving || !this.#isAdmin) return;
    clearErrors(this.#form);
    const status = this.#form.querySelector("[data-testid='knowledge-status']");
    const read = this.#read();
    if (!read) return;
    this.#saving = true;
    status.textContent = "Saving…";
    try {
      const saved = await this.#api.put(`/api/v1/knowledge/${encodeURIComponent(read.id)}`, read.body);
      const index = this.#entries.findIndex((e) => e.id === saved.id);
      if (index >= 0) this.#entries[index] = saved;
      else this.#entries.push(saved);
      this.#edit(saved);
      this.#form.querySelector("[data-testid='knowledge-status']").textContent = "Saved.";
    } catch (error) {
      status.textContent = "";
      this.#showServerError(error);
    } finally {
      this.#saving = false;
    }
  }

  async #delete(button) {
    if (!this.#current || !this.#isAdmin) return;
    // A second click confirms: no browser dialog in the way.
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = "Delete for good?";
      return;
    }
    try {
      await this.#api.delete(`/api/v1/knowledge/${encodeURIComponent(this.#current.id)}`);
    } catch (error) {
      this.#showServerError(error);
      return;
    }
    this.#entries = this.#entries.filter((e) => e.id !== this.#current.id);
    this.#current = null;
    this.#renderList();
    if (this.#entries.length) this.#edit(this.#entries[0]);
    else this.#edit(null);
  }

  /** The server's answer next to the field it names, or above the buttons. */
  #showServerError(error) {
    const form = this.#form;
    let placed = false;
    for (const detail of error.details ?? []) {
      const target = errorNodeFor(form, String(detail.field ?? ""), String(detail.problem ?? ""));
      if (target) {
        showError(target, String(detail.problem ?? error.message));
        placed = true;
      }
    }
    if (!placed) {
      const general = form.querySelector("[data-testid='knowledge-form-error']");
      if (general) showError(general, error.message);
      else this.#onError(error.message);
    }
  }
}

function languageRow(lang, title, text, readOnly) {
  const code = h("input", {
    class: "knowledge-code",
    "data-testid": "knowledge-lang-code",
    "aria-label": "Language code",
    maxlength: "3",
    placeholder: "es",
    readonly: readOnly || Boolean(lang),
  });
  code.value = lang;
  const name = h("span", { class: "muted", text: lang ? languageName(lang) : "" });
  code.addEventListener("input", () => {
    const value = code.value.trim().toLowerCase();
    name.textContent = LANGUAGE.test(value) ? languageName(value) : "";
  });
  const titleInput = h("input", {
    "data-testid": "knowledge-title",
    "aria-label": `Title${lang ? ` (${lang})` : ""}`,
    maxlength: String(MAX_TITLE),
    readonly: readOnly,
  });
  titleInput.value = title;
  const textInput = h("textarea", {
    "data-testid": "knowledge-text",
    "aria-label": `Text${lang ? ` (${lang})` : ""}`,
    rows: "3",
    maxlength: String(MAX_TEXT),
    readonly: readOnly,
  });
  textInput.value = text;
  const row = h(
    "div",
    { class: "knowledge-language", "data-testid": "knowledge-language", "data-lang": lang },
    h("div", { class: "knowledge-language-head" }, code, name),
    fieldError("code"),
    titleInput,
    fieldError("title"),
    textInput,
    fieldError("text"),
  );
  if (!readOnly) {
    const remove = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "knowledge-remove-language",
      text: "Remove language",
    });
    remove.addEventListener("click", () => row.remove());
    row.querySelector(".knowledge-language-head").append(remove);
  }
  return row;
}

function fieldError(field, id = null) {
  return h("p", {
    id,
    class: "field-error",
    "data-testid": "field-error",
    "data-error-for": field,
    role: "alert",
    hidden: true,
  });
}

/** Where the server's `field` goes: `id`, `intents`, `title`, `text`, `title.es`, ... */
function errorNodeFor(form, field, problem) {
  const [name, lang] = field.split(/\.(.*)/s);
  if (lang !== undefined && (name === "title" || name === "text")) {
    const row = [...form.querySelectorAll("[data-testid='knowledge-language']")].find(
      (r) => r.dataset.lang === lang,
    );
    if (!row) return null;
    // A bad language code is the code's fault, not the text's.
    const part = /not a language/i.test(problem) ? "code" : name;
    return row.querySelector(`[data-error-for='${part}']`);
  }
  return form.querySelector(`:scope > [data-error-for='${name}'], fieldset > [data-error-for='${name}']`);
}

function showError(node, message) {
  if (!node) return;
  node.textContent = message;
  node.hidden = false;
  // The field it belongs to says so to assistive technology.
  const field = node.previousElementSibling;
  if (field?.matches?.("input, textarea")) field.setAttribute("aria-invalid", "true");
}

function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function unionKeys(...maps) {
  const keys = [];
  for (const map of maps) {
    for (const key of Object.keys(map ?? {})) if (!keys.includes(key)) keys.push(key);
  }
  return keys.length ? keys : ["en"];
}

/** The English title if there is one, else the first. */
function pickText(map) {
  if (!map || typeof map !== "object") return "";
  return map.en ?? Object.values(map)[0] ?? "";
}
