// The conditions of a trigger rule as form rows (docs/console.md, "Triggers").
//
// A rule's `conditions` is a group: `{match: "all" | "any", conditions: [...]}`, whose
// items are conditions (`{type, ...fields}`) or groups again. Each row here is an
// editor object with a `node` and a `read(path)` that returns the JSON and stamps every
// control with `data-field` = its path in the rule ("conditions.conditions.0.seconds"),
// so an error the server names by that path is shown at the control (see
// trigger_form.js `showFieldErrors`). Texts go in as text only (dom.js `h`).

import { h } from "./dom.js";

/** The condition types the form offers, in the order of its select. */
export const CONDITION_TYPES = [
  ["url", "Page address"],
  ["product", "Product"],
  ["category", "Category"],
  ["time_on_page", "Time on the page"],
  ["cart_value", "Cart value"],
  ["cart_items", "Items in the cart"],
  ["checkout_abandoned", "Checkout left unfinished"],
  ["exit_intent", "About to leave the page"],
  ["visitor", "New or returning visitor"],
  ["country", "Country"],
  ["language", "Language"],
  ["utm", "Campaign (UTM)"],
  ["business_hours", "Business hours"],
  ["event", "Custom event"],
];

const OPS = [
  ["eq", "is"],
  ["ne", "is not"],
  ["gt", ">"],
  ["gte", "≥"],
  ["lt", "<"],
  ["lte", "≤"],
  ["contains", "contains"],
];

// The fields of each type: `kind` says which control and how its value is read.
const FIELDS = {
  url: [
    {
      key: "include",
      kind: "lines",
      label: "Address matches (one per line, * for anything)",
      placeholder: "https://shop.example/products/*",
    },
    { key: "exclude", kind: "lines", label: "But not (one per line)" },
  ],
  product: [{ key: "in", kind: "list", label: "Product slugs (comma separated)" }],
  category: [{ key: "in", kind: "list", label: "Categories (comma separated)" }],
  time_on_page: [{ key: "seconds", kind: "number", label: "Seen for at least (seconds)" }],
  cart_value: [
    { key: "min", kind: "number", label: "At least", optional: true },
    { key: "max", kind: "number", label: "At most", optional: true },
  ],
  cart_items: [
    { key: "min", kind: "number", label: "At least", optional: true },
    { key: "max", kind: "number", label: "At most", optional: true },
  ],
  checkout_abandoned: [
    { key: "minutes", kind: "number", label: "Minutes since the checkout started" },
  ],
  exit_intent: [],
  visitor: [
    {
      key: "is",
      kind: "choice",
      label: "The visitor is",
      options: [
        ["new", "new"],
        ["returning", "returning"],
      ],
    },
  ],
  country: [
    { key: "in", kind: "list", case: "upper", label: "Countries (two-letter codes, like ES, MX)" },
  ],
  language: [{ key: "in", kind: "list", case: "lower", label: "Languages (like es, pt)" }],
  utm: [
    { key: "source", kind: "list", label: "utm_source is one of", optional: true },
    { key: "campaign", kind: "list", label: "utm_campaign is one of", optional: true },
  ],
  business_hours: [
    {
      key: "inside",
      kind: "choice",
      label: "When",
      options: [
        [true, "inside business hours"],
        [false, "outside business hours"],
      ],
    },
  ],
  event: [
    {
      key: "name",
      kind: "text",
      label: "Event name (as sent by Portside.track)",
      placeholder: "wishlist_add",
    },
    { key: "where", kind: "where", label: "Where its properties" },
  ],
};

/** A new condition of `type` with its fields blank. */
export function blankCondition(type = "url") {
  const condition = { type };
  for (const field of FIELDS[type] ?? []) {
    if (field.kind === "lines" || field.kind === "list") condition[field.key] = [];
    else if (field.kind === "choice") condition[field.key] = field.options[0][0];
    else if (field.kind === "where") condition[field.key] = [];
    else condition[field.key] = field.kind === "text" ? "" : null;
  }
  return condition;
}

/** "a, b ,, c" -> ["a", "b", "c"] (newlines separate too). */
export function splitList(text, letterCase = "") {
  return String(text ?? "")
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      if (letterCase === "upper") return item.toUpperCase();
      if (letterCase === "lower") return item.toLowerCase();
      return item;
    });
}

/**
 * A number field's value: a number, null when blank, or the text as typed when it is
 * not a number (the server then says what is wrong, at this field).
 */
export function readNumber(text) {
  const value = String(text ?? "").trim();
  if (!value) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
}

/** A property filter's value: a number when it reads as one, true/false, else text. */
export function readScalar(text, op) {
  const value = String(text ?? "");
  if (op === "contains") return value;
  if (value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  if (value === "true" || value === "false") return value === "true";
  return value;
}

/** A nested group is `{type: "group", match, conditions}`. */
function isGroup(item) {
  return item?.type === "group" || (!item?.type && Array.isArray(item?.conditions));
}

function errorNode() {
  return h("p", {
    class: "field-error",
    "data-testid": "field-error",
    role: "alert",
    hidden: true,
  });
}

let uid = 0;
function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A group of conditions: match all / any, its rows, and buttons to add a condition and
 * (while `depth` allows) a nested group. `onRemove` null: the rule's own group.
 */
export class GroupEditor {
  node;
  #rows;
  #match;
  #items = [];
  #readOnly;
  #canNest;
  #depth;

  constructor(group, { readOnly = false, depth = 0, maxDepth = 1, onRemove = null } = {}) {
    this.#readOnly = readOnly;
    this.#depth = depth;
    this.#canNest = depth < maxDepth;
    const matchId = nextId("trigger-match");
    this.#match = h(
      "select",
      { id: matchId, "data-testid": "trigger-match", disabled: readOnly },
      h("option", { value: "all", text: "all of these" }),
      h("option", { value: "any", text: "any of these" }),
    );
    this.#match.value = group?.match === "any" ? "any" : "all";
    this.#rows = h("div", { class: "trigger-rows" });
    const head = h(
      "div",
      { class: "trigger-group-head" },
      h("label", { for: matchId, text: depth ? "This group matches when" : "Fire when" }),
      this.#match,
    );
    if (onRemove && !readOnly)
      head.append(removeButton("Remove group", "trigger-remove-group", onRemove));
    const buttons = h("div", { class: "trigger-add-row" });
    if (!readOnly) {
      const add = h("button", {
        type: "button",
        class: "quiet",
        "data-testid": "trigger-add-condition",
        text: "+ Condition",
      });
      add.addEventListener("click", () => this.#add(blankCondition(), depth, maxDepth).focus());
      buttons.append(add);
      if (this.#canNest) {
        const nest = h("button", {
          type: "button",
          class: "quiet",
          "data-testid": "trigger-add-group",
          text: "+ Group",
        });
        nest.addEventListener("click", () => {
          const group = { type: "group", match: "any", conditions: [blankCondition()] };
          this.#add(group, depth, maxDepth).focus();
        });
        buttons.append(nest);
      }
    }
    this.node = h(
      "div",
      {
        class: depth ? "trigger-group is-nested" : "trigger-group",
        "data-testid": "trigger-group",
      },
      head,
      errorNode(),
      this.#rows,
      buttons,
    );
    for (const item of group?.conditions ?? []) this.#add(item, depth, maxDepth);
  }

  focus() {
    this.#match.focus();
  }

  #add(item, depth, maxDepth) {
    const remove = () => {
      this.#items = this.#items.filter((i) => i !== editor);
      editor.node.remove();
    };
    // A group nested deeper than the form offers (made through the API) is still shown.
    const editor = isGroup(item)
      ? new GroupEditor(item, {
          readOnly: this.#readOnly,
          depth: depth + 1,
          maxDepth,
          onRemove: remove,
        })
      : new ConditionEditor(item, { readOnly: this.#readOnly, onRemove: remove });
    this.#items.push(editor);
    this.#rows.append(editor.node);
    return editor;
  }

  read(path) {
    this.node.dataset.field = path;
    this.#match.dataset.field = `${path}.match`;
    const conditions = this.#items.map((item, index) => item.read(`${path}.conditions.${index}`));
    const group = { match: this.#match.value, conditions };
    // The rule's own group has no type; a nested one says it is a group.
    return this.#depth ? { type: "group", ...group } : group;
  }
}

/** One condition: its type, then the fields of that type. */
class ConditionEditor {
  node;
  #type;
  #fields;
  #readers = [];
  #readOnly;
  #original;

  constructor(condition, { readOnly, onRemove }) {
    this.#readOnly = readOnly;
    this.#original = condition;
    const known = CONDITION_TYPES.some(([type]) => type === condition.type);
    this.#type = h(
      "select",
      { "data-testid": "condition-type", "aria-label": "Condition", disabled: readOnly },
      CONDITION_TYPES.map(([value, text]) => h("option", { value, text })),
      known ? null : h("option", { value: String(condition.type), text: String(condition.type) }),
    );
    this.#type.value = String(condition.type);
    this.#fields = h("div", { class: "condition-fields" });
    this.#type.addEventListener("change", () => this.#render(blankCondition(this.#type.value)));
    const head = h("div", { class: "condition-head" }, this.#type);
    if (!readOnly) head.append(removeButton("Remove", "condition-remove", onRemove));
    this.node = h(
      "div",
      { class: "condition", "data-testid": "condition", "data-type": condition.type },
      head,
      errorNode(),
      this.#fields,
    );
    this.#render(condition);
  }

  focus() {
    this.#type.focus();
  }

  #render(condition) {
    this.node.dataset.type = condition.type;
    this.#readers = [];
    const specs = FIELDS[condition.type];
    if (!specs) {
      // A type this console does not know yet: kept as it is.
      this.#fields.replaceChildren(
        h("p", {
          class: "muted",
          text: "This condition was made through the API; it is kept as is.",
        }),
      );
      return;
    }
    if (!specs.length) {
      this.#fields.replaceChildren(h("p", { class: "muted", text: "No settings." }));
      return;
    }
    this.#fields.replaceChildren(...specs.map((spec) => this.#field(spec, condition[spec.key])));
  }

  #field(spec, value) {
    const id = nextId("condition-field");
    const testid = `condition-${spec.key}`;
    let control;
    let read;
    if (spec.kind === "lines") {
      control = h("textarea", { id, rows: 2, placeholder: spec.placeholder ?? null });
      control.value = (value ?? []).join("\n");
      read = () => splitList(control.value);
    } else if (spec.kind === "list") {
      control = h("input", { id, placeholder: spec.placeholder ?? null });
      control.value = (value ?? []).join(", ");
      read = () => splitList(control.value, spec.case);
    } else if (spec.kind === "number") {
      control = h("input", { id, inputmode: "decimal", class: "short" });
      control.value = value === null || value === undefined ? "" : String(value);
      read = () => readNumber(control.value);
    } else if (spec.kind === "choice") {
      control = h(
        "select",
        { id },
        spec.options.map(([option, text]) => h("option", { value: String(option), text })),
      );
      control.value = String(value ?? spec.options[0][0]);
      read = () => spec.options.find(([option]) => String(option) === control.value)?.[0];
    } else if (spec.kind === "text") {
      control = h("input", { id, placeholder: spec.placeholder ?? null });
      control.value = value ?? "";
      read = () => control.value.trim();
    } else {
      const where = new WhereEditor(value ?? [], this.#readOnly);
      const field = h(
        "div",
        { class: "trigger-field", "data-testid": testid },
        h("span", { class: "field-label", text: spec.label }),
        where.node,
        errorNode(),
      );
      this.#readers.push([spec, field, (path) => where.read(path)]);
      return field;
    }
    control.dataset.testid = testid;
    if (this.#readOnly) control.disabled = true;
    const field = h(
      "div",
      { class: "trigger-field" },
      h("label", { for: id, text: spec.label }),
      control,
      errorNode(),
    );
    this.#readers.push([spec, field, () => read()]);
    return field;
  }

  read(path) {
    this.node.dataset.field = path;
    this.#type.dataset.field = `${path}.type`;
    const type = this.#type.value;
    if (!FIELDS[type]) return this.#original;
    // Fields the form does not show (utm medium, say) are kept while the type is.
    const condition = type === this.#original.type ? { ...this.#original } : { type };
    for (const [spec, field, read] of this.#readers) {
      const fieldPath = `${path}.${spec.key}`;
      field.dataset.field = fieldPath;
      const value = read(fieldPath);
      // A list left empty that the type does not need is left out (utm: either list).
      if (spec.optional && Array.isArray(value) && !value.length) delete condition[spec.key];
      else condition[spec.key] = value;
    }
    return condition;
  }
}

/** The property filters of a custom event: property, operator, value per row. */
class WhereEditor {
  node;
  #rows = [];
  #list;
  #readOnly;

  constructor(filters, readOnly) {
    this.#readOnly = readOnly;
    this.#list = h("div", { class: "where-rows" });
    this.node = h("div", { class: "where" }, this.#list);
    if (!readOnly) {
      const add = h("button", {
        type: "button",
        class: "quiet",
        "data-testid": "where-add",
        text: "+ Property filter",
      });
      add.addEventListener("click", () => this.#add({ property: "", op: "eq", value: "" }).focus());
      this.node.append(add);
    }
    for (const filter of filters) this.#add(filter);
  }

  #add(filter) {
    const property = h("input", {
      "data-testid": "where-property",
      "aria-label": "Property",
      placeholder: "property",
      disabled: this.#readOnly,
    });
    property.value = filter.property ?? "";
    const op = h(
      "select",
      { "data-testid": "where-op", "aria-label": "Comparison", disabled: this.#readOnly },
      OPS.map(([value, text]) => h("option", { value, text })),
    );
    op.value = filter.op ?? "eq";
    const value = h("input", {
      "data-testid": "where-value",
      "aria-label": "Value",
      placeholder: "value",
      disabled: this.#readOnly,
    });
    value.value = filter.value === undefined || filter.value === null ? "" : String(filter.value);
    const row = { node: null, property, op, value, focus: () => property.focus() };
    row.node = h("div", { class: "where-row", "data-testid": "where-row" }, property, op, value);
    if (!this.#readOnly) {
      row.node.append(
        removeButton("Remove", "where-remove", () => {
          this.#rows = this.#rows.filter((r) => r !== row);
          row.node.remove();
        }),
      );
    }
    row.node.append(errorNode());
    this.#rows.push(row);
    this.#list.append(row.node);
    return row;
  }

  read(path) {
    this.node.dataset.field = path;
    return this.#rows.map((row, index) => {
      const rowPath = `${path}.${index}`;
      row.node.dataset.field = rowPath;
      row.property.dataset.field = `${rowPath}.property`;
      row.op.dataset.field = `${rowPath}.op`;
      row.value.dataset.field = `${rowPath}.value`;
      return {
        property: row.property.value.trim(),
        op: row.op.value,
        value: readScalar(row.value.value, row.op.value),
      };
    });
  }
}

function removeButton(text, testid, onClick) {
  const button = h("button", { type: "button", class: "quiet", "data-testid": testid, text });
  button.addEventListener("click", onClick);
  return button;
}
