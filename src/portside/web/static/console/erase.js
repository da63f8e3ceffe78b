// Deleting the open conversation, for the store's admins (docs/console.md).
//
// "Delete…" in the conversation's actions asks first, in a dialog that says what goes:
// every message, photo, voice note and file of it, for everyone, for good. On yes it
// calls DELETE /api/v1/conversations/{id}; the row then leaves this console at once and,
// through the `conversation.deleted` frame, every other console and the shopper's widget.

import { conversationPath } from "./api.js";
import { byId, h } from "./dom.js";

export class DeleteControl {
  #api;
  #canDelete;
  #onDeleted;
  #button = byId("action-delete");
  #dialog;
  #confirm;
  #error;
  #conversation = null;
  #busy = false;
  #onClick = () => this.#ask();

  /**
   * @param {object} deps
   * @param {{role: string}} deps.agent  only admins see the button (the server decides)
   * @param {(id: number) => void} deps.onDeleted  the conversation is gone
   */
  constructor({ api, agent, onDeleted }) {
    this.#api = api;
    this.#canDelete = agent.role === "admin";
    this.#onDeleted = onDeleted;
    const cancel = h("button", { type: "button", class: "quiet", "data-testid": "delete-cancel", text: "Cancel" });
    cancel.addEventListener("click", () => this.#dialog.close());
    this.#confirm = h("button", {
      type: "button",
      class: "danger",
      "data-testid": "delete-confirm",
      text: "Delete for good",
    });
    this.#confirm.addEventListener("click", () => this.#delete());
    this.#error = h("p", { class: "field-error", role: "alert", "data-testid": "delete-error", hidden: true });
    this.#dialog = h(
      "dialog",
      { class: "confirm", "data-testid": "delete-dialog", "aria-labelledby": "delete-heading" },
      h("h2", { id: "delete-heading", text: "Delete this conversation?" }),
      h("p", {
        "data-testid": "delete-what",
        text:
          "Every message, photo, voice note and file in it is deleted for good, for " +
          "everyone: the shopper's chat loses it too. This cannot be undone.",
      }),
      this.#error,
      h("div", { class: "confirm-actions" }, cancel, this.#confirm),
    );
    document.body.append(this.#dialog);
    this.#button.addEventListener("click", this.#onClick);
    this.show(null);
  }

  destroy() {
    this.#button.removeEventListener("click", this.#onClick);
    if (this.#dialog.open) this.#dialog.close();
    this.#dialog.remove();
    this.#conversation = null;
    this.show(null);
  }

  /** The conversation open now (null: none); the button is there for admins only. */
  show(conversation) {
    if (this.#conversation?.id !== conversation?.id && this.#dialog.open) this.#dialog.close();
    this.#conversation = conversation;
    this.#button.hidden = !(this.#canDelete && conversation);
  }

  #ask() {
    if (!this.#conversation || this.#dialog.open) return;
    this.#error.hidden = true;
    this.#confirm.disabled = false;
    this.#dialog.showModal();
  }

  async #delete() {
    const conversation = this.#conversation;
    if (!conversation || this.#busy) return;
    this.#busy = true;
    this.#confirm.disabled = true;
    try {
      await this.#api.delete(conversationPath(conversation.id));
      this.#dialog.close();
      this.#onDeleted(conversation.id);
    } catch (error) {
      if (error.status === 404) {
        // Someone deleted it first: gone all the same.
        this.#dialog.close();
        this.#onDeleted(conversation.id);
        return;
      }
      this.#error.textContent = error.message;
      this.#error.hidden = false;
      this.#confirm.disabled = false;
    } finally {
      this.#busy = false;
    }
  }
}
