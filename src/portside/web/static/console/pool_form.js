// The form of one coupon pool: name, what a code gives by language, pattern, expiry and
// codes per visitor (docs/console.md, "Coupons"). `read()` gives the body of POST / PATCH
// /api/v1/coupon-pools; `showErrors` puts each `{field, problem}` of the server's answer
// under the field it names, the rest above the buttons.

import { h } from "./dom.js";
import { languageName } from "./format.js";

const LANGUAGE = /^[a-z]{2,3}$/;

/** The pool's own fields: name, description per language, pattern, expiry, limit. */
export class PoolForm {
  node;
  onDelete = () => {};
  #readOnly;
  #name;
  #pattern;
  #expires;
  #limit;
  #languages;
  #status;
  #general;

  constructor(pool, readOnly) {
    this.#readOnly = readOnly;
    this.#name = input("pool-name", pool?.name ?? "", readOnly, { maxlength: 100 });
    this.#pattern = input("pool-pattern", pool?.pattern ?? "", readOnly, {
      placeholder: "WELCOME-{XXXXXX}",
    });
    this.#expires = input("pool-expires", localInput(pool?.expires_at), readOnly, {
      type: "datetime-local",
    });
    this.#limit = input("pool-limit", String(pool?.per_visitor_limit ?? 1), readOnly, {
      inputmode: "numeric",
      class: "short",
    });
    this.#languages = h("div", { class: "trigger-languages" });
    const description =
      pool?.description && Object.keys(pool.description).length ? pool.description : { en: "" };
    for (const [lang, text] of Object.entries(description))
      this.#languages.append(this.#languageRow(lang, text));
    const addLanguage = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "pool-add-language",
      text: "+ Language",
      hidden: readOnly,
    });
    addLanguage.addEventListener("click", () => {
      const row = this.#languageRow("", "");
      this.#languages.append(row);
      row.querySelector("input").focus();
    });
    this.#status = h("p", {
      class: "engagement-status",
      "data-testid": "pool-status",
      role: "status",
    });
    this.#general = h("p", {
      class: "field-error",
      "data-testid": "pool-form-error",
      role: "alert",
      hidden: true,
    });
    const buttons = h("div", { class: "engagement-actions" });
    if (!readOnly) {
      buttons.append(
        h("button", {
          type: "submit",
          class: "primary",
          "data-testid": "pool-save",
          text: pool ? "Save" : "Create pool",
        }),
      );
      if (pool) {
        const remove = h("button", {
          type: "button",
          class: "danger",
          "data-testid": "pool-delete",
          text: "Delete",
        });
        remove.addEventListener("click", () => {
          // A second click confirms: no browser dialog in the way.
          if (remove.dataset.confirm === "1") this.onDelete();
          else {
            remove.dataset.confirm = "1";
            remove.textContent = "Delete for good?";
          }
        });
        buttons.append(remove);
      }
    }
    this.node = h(
      "form",
      { class: "pool-form", "data-testid": "pool-form", novalidate: true },
      readOnly
        ? h("p", {
            class: "engagement-readonly",
            "data-testid": "pool-readonly",
            text: "Only supervisors and admins can change coupon pools; you can read them.",
          })
        : null,
      field("name", "Name", this.#name),
      h(
        "fieldset",
        { "data-field": "description" },
        h("legend", { text: "What a code gives, by language (shown to the shopper)" }),
        this.#languages,
        addLanguage,
        errorNode(),
      ),
      field(
        "pattern",
        "Pattern for generated codes ({XXXX}: random letters and digits, {9999}: digits)",
        this.#pattern,
      ),
      h(
        "div",
        { class: "trigger-numbers" },
        field("expires_at", "Expires (your time; blank: never)", this.#expires),
        field("per_visitor_limit", "Codes per visitor", this.#limit),
      ),
      this.#general,
      buttons,
      this.#status,
    );
  }

  #languageRow(lang, text) {
    const code = h("input", {
      class: "lang-code",
      "data-testid": "pool-lang-code",
      "aria-label": "Language code",
      maxlength: 3,
      placeholder: "es",
      disabled: this.#readOnly,
    });
    code.value = lang;
    const name = h("span", { class: "muted", text: lang ? languageName(lang) : "" });
    code.addEventListener("input", () => {
      const value = code.value.trim().toLowerCase();
      name.textContent = LANGUAGE.test(value) ? languageName(value) : "";
    });
    const textInput = h("input", {
      "data-testid": "pool-description",
      "aria-label": "What a code gives",
      maxlength: 300,
      placeholder: "10% off your order",
      disabled: this.#readOnly,
    });
    textInput.value = text ?? "";
    const row = h(
      "div",
      { class: "pool-language", "data-testid": "pool-language" },
      code,
      name,
      textInput,
    );
    if (!this.#readOnly) {
      const remove = h("button", { type: "button", class: "quiet", text: "Remove" });
      remove.addEventListener("click", () => row.remove());
      row.append(remove);
    }
    return row;
  }

  /** The body for POST / PATCH, or null after saying what must be fixed first. */
  read() {
    this.#clear();
    const description = {};
    for (const row of this.#languages.querySelectorAll("[data-testid='pool-language']")) {
      const code = row.querySelector("[data-testid='pool-lang-code']").value.trim().toLowerCase();
      const text = row.querySelector("[data-testid='pool-description']").value;
      if (code || text.trim()) description[code] = text;
    }
    let expires = null;
    if (this.#expires.value) {
      const when = new Date(this.#expires.value);
      if (Number.isNaN(when.getTime())) {
        this.#fieldError("expires_at", "Give a date and time, or leave it blank for never.");
        return null;
      }
      expires = when.toISOString();
    }
    return {
      name: this.#name.value.trim(),
      description,
      pattern: this.#pattern.value.trim() || null,
      expires_at: expires,
      per_visitor_limit: wholeOrText(this.#limit.value),
    };
  }

  status(text) {
    this.#status.textContent = text;
  }

  showErrors(error) {
    this.#clear();
    let placed = false;
    for (const detail of error.details ?? []) {
      if (this.#fieldError(String(detail.field ?? ""), String(detail.problem ?? error.message)))
        placed = true;
    }
    if (!placed) {
      this.#general.textContent = error.message;
      this.#general.hidden = false;
    }
  }

  #fieldError(field, problem) {
    const holder = this.node.querySelector(`[data-field="${CSS.escape(field.split(".")[0])}"]`);
    const line = holder?.querySelector(":scope > .field-error");
    if (!line) return false;
    line.textContent = problem;
    line.hidden = false;
    return true;
  }

  #clear() {
    for (const node of this.node.querySelectorAll(".field-error")) {
      node.hidden = true;
      node.textContent = "";
    }
  }
}

function input(testid, value, readOnly, props = {}) {
  const node = h("input", { id: testid, "data-testid": testid, disabled: readOnly, ...props });
  node.value = value;
  return node;
}

function field(name, label, control) {
  return h(
    "div",
    { class: "trigger-field", "data-field": name },
    h("label", { for: control.id, text: label }),
    control,
    errorNode(),
  );
}

function errorNode() {
  return h("p", {
    class: "field-error",
    "data-testid": "field-error",
    role: "alert",
    hidden: true,
  });
}

/** A whole number typed, or the text as it is for the server to refuse at the field. */
export function wholeOrText(text) {
  const value = String(text ?? "").trim();
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

/** An ISO time as a datetime-local input's value, in the agent's zone. */
function localInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
