// The Triggers view: the store's trigger rules, their stats, and the rule editor.
//
// Every agent reads the rules; supervisors and admins create, change, switch on and off
// and delete them (the server refuses the others as well). The list shows each rule's
// enabled switch, priority, holdout share and what it did (fired / contacted / held
// out). "Preview" replays the last days' visitors against the rule in the form, saved
// or not (POST /api/v1/triggers/preview). Texts are set as text, never as markup.

import { h } from "./dom.js";
import { countryName, flag, languageName, shortTime } from "./format.js";
import { RuleForm } from "./trigger_form.js";

const EDITORS = new Set(["admin", "supervisor"]);
const RULE_KEYS = ["name", "enabled", "priority", "holdout_pct", "conditions", "actions"];

export class TriggersView {
  #api;
  #canEdit;
  #onError;
  #dialog;
  #list;
  #form;
  #buttons;
  #status;
  #preview;
  #rules = [];
  #pools = null;
  #current = null; // the rule being edited; null for a new one
  #ruleForm = null;
  #busy = false;

  /** @param {{api: object, agent: {role: string}, onError: (m: string) => void}} deps */
  constructor({ api, agent, onError }) {
    this.#api = api;
    this.#canEdit = EDITORS.has(agent.role);
    this.#onError = onError;
    const close = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "triggers-close",
      text: "Close",
    });
    close.addEventListener("click", () => this.#dialog.close());
    const newRule = h("button", {
      type: "button",
      "data-testid": "trigger-new",
      text: "New rule",
      hidden: !this.#canEdit,
    });
    newRule.addEventListener("click", () => this.#edit(null));
    this.#list = h("ul", { class: "engagement-list", "data-testid": "trigger-list" });
    this.#form = h("form", {
      class: "engagement-form",
      "data-testid": "trigger-form",
      novalidate: true,
      hidden: true,
    });
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
    this.#buttons = h("div", { class: "engagement-actions" });
    this.#status = h("p", {
      class: "engagement-status",
      "data-testid": "trigger-status",
      role: "status",
    });
    this.#preview = h("section", {
      class: "trigger-preview",
      "data-testid": "trigger-preview",
      hidden: true,
    });
    this.#dialog = h(
      "dialog",
      {
        class: "engagement",
        "data-testid": "triggers-dialog",
        "aria-labelledby": "triggers-heading",
      },
      h(
        "header",
        { class: "engagement-head" },
        h("h2", { id: "triggers-heading", text: "Triggers" }),
        h("p", { class: "muted", text: "Rules that reach out to shoppers while they shop." }),
        h("span", { class: "topbar-spacer" }),
        close,
      ),
      h(
        "div",
        { class: "engagement-body" },
        h("nav", { class: "engagement-nav", "aria-label": "Trigger rules" }, newRule, this.#list),
        this.#form,
      ),
    );
    document.body.append(this.#dialog);
  }

  destroy() {
    if (this.#dialog.open) this.#dialog.close();
    this.#dialog.remove();
  }

  /** Open the view with the rules read afresh. */
  async open() {
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    let answer;
    try {
      [answer, this.#pools] = await Promise.all([
        this.#api.get("/api/v1/triggers"),
        this.#api.get("/api/v1/coupon-pools").then(
          (answer) => answer.coupon_pools ?? [],
          () => null,
        ),
      ]);
    } catch (error) {
      this.#list.replaceChildren(
        h("li", {
          class: "field-error",
          text: `The trigger rules could not be loaded: ${error.message}`,
        }),
      );
      return;
    }
    this.#rules = answer.triggers ?? [];
    this.#renderList();
    const again = this.#current && this.#rules.find((rule) => rule.id === this.#current.id);
    if (again) this.#edit(again);
    else if (this.#rules.length) this.#edit(this.#rules[0]);
    else if (this.#canEdit) this.#edit(null);
    else this.#form.hidden = true;
  }

  #renderList() {
    if (!this.#rules.length) {
      this.#list.replaceChildren(h("li", { class: "muted", text: "No trigger rules yet." }));
      return;
    }
    this.#list.replaceChildren(...this.#rules.map((rule) => this.#row(rule)));
  }

  #row(rule) {
    const stats = rule.stats ?? {};
    const open = h(
      "button",
      {
        type: "button",
        class: "engagement-item",
        "data-testid": "trigger-open",
        "aria-current": this.#current?.id === rule.id ? "true" : null,
      },
      h("strong", { text: rule.name }),
      h("span", {
        class: "muted",
        text: `Priority ${rule.priority} · holdout ${rule.holdout_pct}%`,
      }),
      h("span", {
        class: "engagement-counts",
        "data-testid": "trigger-stats",
        text: `Fired ${stats.fired ?? 0} · contacted ${stats.contacted ?? 0} · held out ${stats.held_out ?? 0}`,
      }),
    );
    open.addEventListener("click", () => this.#edit(rule));
    const toggle = h("input", {
      type: "checkbox",
      "data-testid": "trigger-row-enabled",
      "aria-label": `${rule.name}: enabled`,
      disabled: !this.#canEdit,
    });
    toggle.checked = rule.enabled;
    toggle.addEventListener("change", () => this.#setEnabled(rule, toggle));
    return h(
      "li",
      {
        class: "engagement-row",
        "data-testid": "trigger-row",
        "data-trigger-id": rule.id,
        "data-enabled": String(rule.enabled),
      },
      open,
      h("label", { class: "switch", title: "Enabled" }, toggle),
    );
  }

  async #setEnabled(rule, toggle) {
    toggle.disabled = true;
    try {
      const saved = await this.#api.put(triggerPath(rule.id), {
        ...bodyOf(rule),
        enabled: toggle.checked,
      });
      this.#replace(saved);
      if (this.#current?.id === saved.id) this.#edit(saved);
    } catch (error) {
      toggle.checked = rule.enabled;
      this.#onError(error.message);
    } finally {
      toggle.disabled = !this.#canEdit;
    }
  }

  /** Show a rule in the form (a blank one for null). */
  #edit(rule) {
    this.#current = rule;
    this.#renderList();
    this.#ruleForm = new RuleForm(rule, { pools: this.#pools, readOnly: !this.#canEdit });
    const preview = h("button", {
      type: "button",
      "data-testid": "trigger-preview-run",
      text: "Preview",
    });
    preview.addEventListener("click", () => this.#runPreview());
    const parts = [preview];
    if (this.#canEdit) {
      parts.unshift(
        h("button", {
          type: "submit",
          class: "primary",
          "data-testid": "trigger-save",
          text: rule ? "Save" : "Create rule",
        }),
      );
      if (rule) {
        const remove = h("button", {
          type: "button",
          class: "danger",
          "data-testid": "trigger-delete",
          text: "Delete",
        });
        remove.addEventListener("click", () => this.#delete(remove));
        parts.push(remove);
      }
    }
    this.#buttons.replaceChildren(...parts);
    this.#status.textContent = "";
    this.#preview.hidden = true;
    this.#preview.replaceChildren();
    this.#form.replaceChildren(
      h("h3", { text: rule ? rule.name : "New rule" }),
      this.#ruleForm.node,
      this.#buttons,
      this.#status,
      this.#preview,
    );
    this.#form.hidden = false;
  }

  async #save() {
    if (this.#busy || !this.#canEdit) return;
    const body = this.#ruleForm.read();
    this.#ruleForm.clearErrors();
    this.#busy = true;
    this.#status.textContent = "Saving…";
    try {
      const saved = this.#current
        ? await this.#api.put(triggerPath(this.#current.id), body)
        : await this.#api.post("/api/v1/triggers", body);
      this.#replace(saved);
      this.#edit(saved);
      this.#status.textContent = "Saved.";
    } catch (error) {
      this.#status.textContent = "";
      this.#ruleForm.showErrors(error);
    } finally {
      this.#busy = false;
    }
  }

  #replace(saved) {
    const index = this.#rules.findIndex((rule) => rule.id === saved.id);
    if (index >= 0) this.#rules[index] = saved;
    else this.#rules.push(saved);
    this.#rules.sort((a, b) => b.priority - a.priority || a.id - b.id);
    this.#renderList();
  }

  async #runPreview() {
    if (this.#busy) return;
    const body = this.#ruleForm.read();
    this.#ruleForm.clearErrors();
    this.#busy = true;
    this.#preview.hidden = false;
    this.#preview.replaceChildren(h("p", { class: "muted", text: "Replaying recent visitors…" }));
    try {
      const answer = await this.#api.post("/api/v1/triggers/preview", body);
      this.#preview.replaceChildren(...previewParts(answer));
    } catch (error) {
      this.#preview.hidden = true;
      this.#ruleForm.showErrors(error);
    } finally {
      this.#busy = false;
    }
  }

  async #delete(button) {
    if (!this.#current || !this.#canEdit) return;
    // A second click confirms: no browser dialog in the way.
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = "Delete for good?";
      return;
    }
    try {
      await this.#api.delete(triggerPath(this.#current.id));
    } catch (error) {
      this.#ruleForm.showErrors(error);
      return;
    }
    const gone = this.#current.id;
    this.#rules = this.#rules.filter((rule) => rule.id !== gone);
    this.#current = null;
    if (this.#rules.length) this.#edit(this.#rules[0]);
    else this.#edit(null);
    this.#status.textContent = "Deleted.";
  }
}

function previewParts(answer) {
  const matched = answer.matched ?? [];
  const days = answer.days ?? 7;
  const summary =
    `${matched.length} of ${answer.checked ?? 0} visitor${answer.checked === 1 ? "" : "s"} ` +
    `of the last ${days} day${days === 1 ? "" : "s"} would have matched.`;
  return [
    h("h4", { text: "Preview" }),
    h("p", { "data-testid": "trigger-preview-summary", text: summary }),
    matched.length
      ? h(
          "ul",
          { class: "preview-list" },
          matched.map((visitor) =>
            h(
              "li",
              { "data-testid": "trigger-preview-match", "data-visitor-id": visitor.visitor_id },
              h("span", { text: `${flag(visitor.country)} Visitor ${visitor.visitor_id}`.trim() }),
              h("span", {
                class: "muted",
                text: [countryName(visitor.country), languageName(visitor.language)]
                  .filter(Boolean)
                  .join(" · "),
              }),
              h("span", { class: "preview-url", text: visitor.url ?? "" }),
              h("span", { class: "muted", text: shortTime(visitor.at) }),
            ),
          ),
        )
      : null,
  ].filter(Boolean);
}

/** The rule as PUT takes it: what came back less id, stats and times. */
function bodyOf(rule) {
  return Object.fromEntries(RULE_KEYS.map((key) => [key, rule[key]]));
}

function triggerPath(id) {
  return `/api/v1/triggers/${encodeURIComponent(String(id))}`;
}
