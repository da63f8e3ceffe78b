// Case cards: the returns and exchanges the AI agent opened in the open conversation.
//
// Read from GET /api/v1/cases?conversation_id= when a conversation is opened. An agent
// approves, rejects (each with an optional note) or closes a case with PATCH; the
// decision is also an internal note in the transcript, whose live event (`note.created`
// with `data.case`) makes every console showing the case read it again. What the shopper
// wrote is set as text, never as markup.

import { imageThumbnail } from "./attachments.js";
import { byId, h } from "./dom.js";
import { languageName, words } from "./format.js";

const STATUS_LABELS = {
  open: "Open",
  approved: "Approved",
  rejected: "Rejected",
  closed: "Closed",
};

const KIND_LABELS = { return: "Return", exchange: "Exchange" };

// The decisions an agent may take from each status (domain/cases.py).
const DECISIONS = {
  open: ["approved", "rejected", "closed"],
  approved: ["closed"],
  rejected: ["closed"],
  closed: [],
};

const BUTTONS = {
  approved: { label: "Approve", testId: "case-approve", primary: true },
  rejected: { label: "Reject", testId: "case-reject", primary: false },
  closed: { label: "Close", testId: "case-close", primary: false },
};

const REASONS = {
  too_small: "Too small",
  too_big: "Too big",
  damaged: "Arrived damaged",
  wrong_item: "Wrong item sent",
  not_as_described: "Not as described",
  changed_mind: "Changed their mind",
};

export class CaseCards {
  #api;
  #onError;
  #node = byId("case-cards");
  #conversationId = null;
  #cases = new Map(); // case id -> case
  #busy = new Set(); // case ids with a decision on its way
  #errors = new Map(); // case id -> the last refusal, shown on its card
  #notes = new Map(); // case id -> the note being typed, kept across re-renders

  constructor({ api, onError }) {
    this.#api = api;
    this.#onError = onError;
  }

  destroy() {
    this.show(null);
  }

  /** The cases of this conversation (none for null). */
  async show(conversationId) {
    this.#conversationId = conversationId;
    this.#cases.clear();
    this.#errors.clear();
    this.#notes.clear();
    this.#render();
    if (conversationId === null) return;
    try {
      const path = `/api/v1/cases?conversation_id=${encodeURIComponent(String(conversationId))}`;
      const { cases } = await this.#api.get(path);
      if (this.#conversationId !== conversationId) return;
      // Oldest first, as the transcript reads.
      for (const item of [...cases].reverse()) this.#cases.set(item.id, item);
      this.#render();
    } catch (error) {
      if (this.#conversationId === conversationId) {
        this.#onError(`The cases could not be loaded: ${error.message}`);
      }
    }
  }

  /** A live event: a decision note about a case, or a case the AI agent just opened. */
  onEvent(event) {
    if (event.conversation_id !== this.#conversationId) return;
    // A decision's note, the handoff context, or the AI agent's message that opened it.
    const caseId = event.data?.case?.id ?? event.data?.case_id ?? event.data?.bot?.case_id;
    if (!Number.isInteger(caseId)) return;
    if (this.#cases.has(caseId)) this.#reload(caseId);
    else this.show(this.#conversationId); // new to this console
  }

  async #reload(caseId) {
    const conversationId = this.#conversationId;
    try {
      const fresh = await this.#api.get(`/api/v1/cases/${encodeURIComponent(String(caseId))}`);
      if (this.#conversationId !== conversationId) return;
      this.#cases.set(caseId, fresh);
      this.#render();
    } catch (error) {
      this.#onError(`The case could not be loaded: ${error.message}`);
    }
  }

  async #decide(caseId, status) {
    if (this.#busy.has(caseId)) return;
    const conversationId = this.#conversationId;
    const note = status === "closed" ? "" : (this.#notes.get(caseId) ?? "").trim();
    this.#busy.add(caseId);
    this.#errors.delete(caseId);
    this.#render();
    try {
      const result = await this.#api.patch(`/api/v1/cases/${encodeURIComponent(String(caseId))}`, {
        status,
        ...(note ? { note } : {}),
      });
      if (this.#conversationId !== conversationId) return;
      this.#cases.set(caseId, result.case);
      this.#notes.delete(caseId);
    } catch (error) {
      if (this.#conversationId !== conversationId) return;
      this.#errors.set(caseId, error.message);
      // A colleague decided it first: show the case as it is now.
      if (error.status === 409) await this.#reload(caseId);
    } finally {
      this.#busy.delete(caseId);
      if (this.#conversationId === conversationId) this.#render();
    }
  }

  #render() {
    // Keep the focus on a note field while the cards are drawn again.
    const focused = document.activeElement?.dataset?.caseNote;
    this.#node.replaceChildren(...[...this.#cases.values()].map((item) => this.#card(item)));
    this.#node.hidden = this.#cases.size === 0;
    if (focused) this.#node.querySelector(`[data-case-note="${CSS.escape(focused)}"]`)?.focus();
  }

  #card(item) {
    const data = item.data && typeof item.data === "object" ? item.data : {};
    const status = String(item.status);
    const kind = KIND_LABELS[item.kind] ?? "Case";
    const rows = [];
    const add = (label, testId, ...value) => {
      if (value.every((v) => v === null || v === undefined || v === "")) return;
      rows.push(h("dt", { text: label }), h("dd", { "data-testid": testId }, ...value));
    };
    add("Order", "case-order", data.order ? String(data.order) : "");
    const items = Array.isArray(data.items) ? data.items : [];
    if (items.length) {
      add("Items", "case-items", h("ul", { class: "plain" }, ...items.map(itemLine)));
    }
    // A reason the AI agent read off the shopper's photo (its vision label), not their words.
    const seen = data.reason && data.reason_by === "photo" ? " (seen in the photo)" : "";
    add("Reason", "case-reason", reasonText(data.reason) + seen);
    add("Resolution", "case-resolution", data.resolution ? String(data.resolution) : "");
    add("Exchange for", "case-exchange-for", describe(data.exchange_for));
    const photos = Array.isArray(data.photos) ? data.photos : [];
    add(
      "Photos",
      "case-photos",
      photos.length
        ? h("ul", { class: "plain case-photo-list" }, ...photos.map((p) => this.#photo(p)))
        : "None",
    );
    if (data.words) {
      const lang = data.language ? ` (${languageName(data.language)})` : "";
      add(
        "The shopper's words",
        "case-words",
        h("q", { text: String(data.words) }),
        h("span", { class: "muted", text: lang }),
      );
    }
    const history = Array.isArray(data.history) ? data.history : [];
    if (history.length) {
      add("Decisions", "case-history", h("ul", { class: "plain" }, ...history.map(historyLine)));
    }

    const busy = this.#busy.has(item.id);
    const choices = DECISIONS[status] ?? [];
    const noteField = choices.some((c) => c !== "closed")
      ? h("textarea", {
          class: "case-note",
          rows: "2",
          maxlength: "1000",
          placeholder: "Note for your colleagues (optional)",
          "aria-label": `Note on ${kind.toLowerCase()} #${item.id}`,
          "data-testid": "case-note",
          "data-case-note": String(item.id),
          disabled: busy,
        })
      : null;
    if (noteField) {
      noteField.value = this.#notes.get(item.id) ?? "";
      noteField.addEventListener("input", () => this.#notes.set(item.id, noteField.value));
    }
    const buttons = choices.map((choice) => {
      const spec = BUTTONS[choice];
      const button = h("button", {
        type: "button",
        class: spec.primary ? "primary" : "",
        "data-testid": spec.testId,
        disabled: busy,
        text: spec.label,
      });
      button.addEventListener("click", () => this.#decide(item.id, choice));
      return button;
    });
    const error = this.#errors.get(item.id);
    return h(
      "article",
      {
        class: "case-card",
        "data-testid": "case-card",
        "data-case-id": String(item.id),
        "data-status": status,
      },
      h(
        "div",
        { class: "case-head" },
        h("strong", { text: `${kind} #${item.id}` }),
        h("span", {
          class: `badge case-status-${status}`,
          "data-testid": "case-status",
          text: STATUS_LABELS[status] ?? status,
        }),
      ),
      h("dl", { class: "case-details" }, ...rows),
      noteField,
      buttons.length ? h("div", { class: "case-actions" }, ...buttons) : null,
      error ? h("p", { class: "field-error", role: "alert", "data-testid": "case-error", text: error }) : null,
    );
  }

  /** A photo of the case: its thumbnail (an attachment id), else the bot's words for it. */
  #photo(photo) {
    const id = typeof photo === "object" && photo !== null ? photo.id : photo;
    if (!Number.isInteger(id)) return h("li", { text: describe(photo) });
    return h(
      "li",
      { "data-attachment-id": String(id) },
      imageThumbnail(this.#api, id, { label: "Case photo", testId: "case-photo" }),
    );
  }
}

function itemLine(item) {
  const parts = [item?.name || item?.sku || "Item"];
  const variant = [item?.size, item?.color].filter(Boolean).join(", ");
  if (variant) parts.push(`(${variant})`);
  if (item?.quantity) parts.push(`× ${item.quantity}`);
  if (item?.sku) parts.push(`· ${item.sku}`);
  return h("li", { text: parts.map(String).join(" ") });
}

function reasonText(reason) {
  if (!reason) return "";
  return REASONS[reason] ?? words(reason);
}

/** A value of the bot's data as words: `{size: "L"}` reads "size L". */
function describe(value) {
  if (value === null || value === undefined || value === "") return "";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.map(describe).join(", ");
  return Object.entries(value)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${words(k)} ${describe(v)}`)
    .join(", ");
}

function historyLine(entry) {
  const who = entry?.by?.name ?? "An agent";
  const what = STATUS_LABELS[entry?.status] ?? String(entry?.status ?? "");
  const note = entry?.note ? `: ${entry.note}` : "";
  return h("li", { text: `${what} by ${who}${note}` });
}
