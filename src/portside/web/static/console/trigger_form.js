// The form of one trigger rule: name, priority, holdout, conditions, actions.
//
// `RuleForm.read()` gives the rule JSON of docs/api.md ("Trigger rules"); `showErrors`
// puts each `{field, problem}` the server sends next to the control its path names
// ("holdout_pct", "conditions.conditions.1.conditions.0.seconds", "actions.message.texts.es";
// `[0]` is read as `.0`), or above the buttons when no control matches.

import { h } from "./dom.js";
import { languageName } from "./format.js";
import { GroupEditor, readNumber } from "./trigger_conditions.js";

const LANGUAGE = /^[a-z]{2,3}$/;
const CONTROL = "input, select, textarea";

export const BLANK_RULE = {
  name: "",
  enabled: true,
  priority: 0,
  holdout_pct: 0,
  conditions: { match: "all", conditions: [{ type: "url", include: [], exclude: [] }] },
  actions: {
    message: { texts: { en: "" } },
    coupon: null,
    open_widget: false,
    notify_agents: false,
  },
};

export class RuleForm {
  node;
  #readOnly;
  #inputs = {};
  #group;
  #languages;
  #messageOn;
  #coupon;
  #general;

  /**
   * @param {object|null} rule  the rule to edit (a blank one for null)
   * @param {{pools: Array<{id: number, name: string}>|null, readOnly: boolean}} options
   *   `pools` null: the coupon pools could not be read
   */
  constructor(rule, { pools, readOnly }) {
    this.#readOnly = readOnly;
    const source = rule ?? BLANK_RULE;
    const name = this.#input("name", "Name", { value: source.name, maxlength: 200 });
    const priority = this.#input("priority", "Priority (higher is tried first)", {
      value: source.priority,
      inputmode: "numeric",
      class: "short",
    });
    const holdout = this.#input("holdout_pct", "Holdout % (shown nothing, to measure the lift)", {
      value: source.holdout_pct,
      inputmode: "numeric",
      class: "short",
    });
    const enabled = h("input", {
      type: "checkbox",
      "data-testid": "trigger-enabled",
      "data-field": "enabled",
      disabled: readOnly,
    });
    enabled.checked = source.enabled !== false;
    this.#inputs.enabled = enabled;

    this.#group = new GroupEditor(source.conditions, { readOnly, depth: 0, maxDepth: 1 });

    const actions = source.actions ?? BLANK_RULE.actions;
    this.#messageOn = h("input", {
      type: "checkbox",
      "data-testid": "trigger-message-on",
      disabled: readOnly,
    });
    this.#messageOn.checked = Boolean(actions.message);
    this.#languages = h("div", {
      class: "trigger-languages",
      "data-field": "actions.message.texts",
    });
    const texts = actions.message?.texts ?? { en: "" };
    for (const [lang, text] of Object.entries(texts))
      this.#languages.append(this.#languageRow(lang, text));
    const addLanguage = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "trigger-add-language",
      text: "+ Language",
      hidden: readOnly,
    });
    addLanguage.addEventListener("click", () => {
      const row = this.#languageRow("", "");
      this.#languages.append(row);
      row.querySelector("input").focus();
    });
    const message = h(
      "div",
      { class: "trigger-message", "data-field": "actions.message" },
      h("label", { class: "check" }, this.#messageOn, " Send a message"),
      errorNode(),
      this.#languages,
      addLanguage,
    );
    const syncMessage = () => {
      this.#languages.hidden = !this.#messageOn.checked;
      addLanguage.hidden = readOnly || !this.#messageOn.checked;
    };
    this.#messageOn.addEventListener("change", syncMessage);
    syncMessage();

    this.#coupon = h(
      "select",
      { id: "trigger-coupon", "data-testid": "trigger-coupon", disabled: readOnly },
      h("option", { value: "", text: "No coupon" }),
      (pools ?? []).map((pool) => h("option", { value: String(pool.id), text: poolLabel(pool) })),
    );
    const poolId = actions.coupon?.pool_id;
    if (poolId !== undefined && poolId !== null) {
      if (!(pools ?? []).some((pool) => pool.id === poolId)) {
        this.#coupon.append(h("option", { value: String(poolId), text: `Pool ${poolId}` }));
      }
      this.#coupon.value = String(poolId);
    }
    const openWidget = this.#check("open_widget", "Open the chat window", actions.open_widget);
    const notify = this.#check(
      "notify_agents",
      "Tell online agents (hot lead)",
      actions.notify_agents,
    );

    this.#general = h("p", {
      class: "field-error",
      "data-testid": "trigger-form-error",
      role: "alert",
      hidden: true,
    });
    this.node = h(
      "div",
      { class: "trigger-form-fields" },
      readOnly
        ? h("p", {
            class: "engagement-readonly",
            "data-testid": "trigger-readonly",
            text: "Only supervisors and admins can change trigger rules; you can read them.",
          })
        : null,
      name,
      h(
        "div",
        { class: "trigger-numbers" },
        priority,
        holdout,
        h("label", { class: "check" }, enabled, " Enabled"),
      ),
      h(
        "fieldset",
        { class: "trigger-conditions" },
        h("legend", { text: "Conditions" }),
        this.#group.node,
      ),
      h(
        "fieldset",
        { class: "trigger-actions", "data-field": "actions" },
        h("legend", { text: "Actions" }),
        errorNode(),
        message,
        h(
          "div",
          { class: "trigger-field", "data-field": "actions.coupon" },
          h("label", { for: "trigger-coupon", text: "Coupon" }),
          this.#coupon,
          pools === null
            ? h("p", { class: "muted small", text: "The coupon pools could not be read." })
            : null,
          errorNode(),
        ),
        openWidget,
        notify,
      ),
      this.#general,
    );
  }

  #input(field, label, { value, ...props }) {
    const id = `trigger-${field}`;
    const input = h("input", {
      id,
      "data-testid": `trigger-${field.replace("_", "-")}`,
      disabled: this.#readOnly,
      ...props,
    });
    input.value = value === null || value === undefined ? "" : String(value);
    this.#inputs[field] = input;
    return h(
      "div",
      { class: "trigger-field", "data-field": field },
      h("label", { for: id, text: label }),
      input,
      errorNode(),
    );
  }

  #check(field, label, checked) {
    const box = h("input", {
      type: "checkbox",
      "data-testid": `trigger-${field.replace("_", "-")}`,
      disabled: this.#readOnly,
    });
    box.checked = Boolean(checked);
    this.#inputs[field] = box;
    return h(
      "div",
      { class: "trigger-field", "data-field": `actions.${field}` },
      h("label", { class: "check" }, box, ` ${label}`),
      errorNode(),
    );
  }

  #languageRow(lang, text) {
    const code = h("input", {
      class: "lang-code",
      "data-testid": "trigger-lang-code",
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
    const textArea = h("textarea", {
      "data-testid": "trigger-message-text",
      "aria-label": "Message",
      rows: 2,
      maxlength: 2000,
      disabled: this.#readOnly,
    });
    textArea.value = text ?? "";
    const head = h("div", { class: "lang-head" }, code, name);
    const row = h(
      "div",
      { class: "trigger-language", "data-testid": "trigger-language" },
      head,
      textArea,
      errorNode(),
    );
    if (!this.#readOnly) {
      const remove = h("button", {
        type: "button",
        class: "quiet",
        "data-testid": "trigger-remove-language",
        text: "Remove",
      });
      remove.addEventListener("click", () => row.remove());
      head.append(remove);
    }
    return row;
  }

  /** The rule as the API takes it. */
  read() {
    const texts = {};
    for (const row of this.#languages.querySelectorAll("[data-testid='trigger-language']")) {
      const code = row
        .querySelector("[data-testid='trigger-lang-code']")
        .value.trim()
        .toLowerCase();
      row.dataset.field = `actions.message.texts.${code}`;
      texts[code] = row.querySelector("textarea").value;
    }
    const coupon = this.#coupon.value;
    return {
      name: this.#inputs.name.value.trim(),
      enabled: this.#inputs.enabled.checked,
      priority: readNumber(this.#inputs.priority.value) ?? 0,
      holdout_pct: readNumber(this.#inputs.holdout_pct.value) ?? 0,
      conditions: this.#group.read("conditions"),
      actions: {
        message: this.#messageOn.checked ? { texts } : null,
        coupon: coupon ? { pool_id: Number(coupon) } : null,
        open_widget: this.#inputs.open_widget.checked,
        notify_agents: this.#inputs.notify_agents.checked,
      },
    };
  }

  clearErrors() {
    for (const node of this.node.querySelectorAll(".field-error")) {
      node.hidden = true;
      node.textContent = "";
    }
    for (const node of this.node.querySelectorAll("[aria-invalid]"))
      node.removeAttribute("aria-invalid");
  }

  /** An API error: each detail at its field, the rest (or the message) above the buttons. */
  showErrors(error) {
    this.clearErrors();
    let placed = false;
    for (const detail of error.details ?? []) {
      const problem = String(detail.problem ?? error.message);
      const target = errorNodeFor(this.node, String(detail.field ?? ""));
      if (target) {
        show(target, problem);
        placed = true;
      }
    }
    if (!placed) show(this.#general, error.message);
    this.node.querySelector(".field-error:not([hidden])")?.scrollIntoView({ block: "nearest" });
  }
}

/** "conditions[0].seconds" -> "conditions.0.seconds". */
export function normalisePath(field) {
  return String(field)
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/^\./, "");
}

/**
 * Where an error for `field` goes: the control with that exact path, else the deepest
 * one whose path contains it; then the nearest error line at or above that control.
 */
function errorNodeFor(root, field) {
  const path = normalisePath(field);
  if (!path) return null;
  let best = null;
  for (const node of root.querySelectorAll("[data-field]")) {
    const own = node.dataset.field;
    if (own === path) {
      best = node;
      break;
    }
    if (path.startsWith(`${own}.`) && (!best || own.length > best.dataset.field.length))
      best = node;
  }
  for (let node = best; node && node !== root.parentNode; node = node.parentElement) {
    const line = node.querySelector(":scope > .field-error");
    if (line) {
      const control = best.matches(CONTROL) ? best : best.querySelector(`:scope > :is(${CONTROL})`);
      control?.setAttribute("aria-invalid", "true");
      return line;
    }
  }
  return null;
}

function show(node, message) {
  // Two problems of one field are both said.
  node.textContent = node.hidden || !node.textContent ? message : `${node.textContent} ${message}`;
  node.hidden = false;
}

function errorNode() {
  return h("p", {
    class: "field-error",
    "data-testid": "field-error",
    role: "alert",
    hidden: true,
  });
}

export function poolLabel(pool) {
  const free = pool.counts?.free;
  return typeof free === "number" ? `${pool.name} (${free} free)` : pool.name;
}
