// The composer: replies and internal notes, sent over the WebSocket.
//
// Every send gets a fresh client_id and is kept in an outbox until it is confirmed: by
// its `ack`, or by its event arriving on the live feed. Until then it shows as pending
// under the transcript. A send made while offline waits in the outbox and goes out after
// the next `welcome`; one that was in flight when the line dropped is sent again with the
// same client_id, which the server stores once. A send the server refuses (an `error`
// with its ref) comes back into the text box with the reason, so nothing typed is lost.
//
// Record (recorder.js) records a voice note; its Send uploads it like a picked file and
// sends the reply, text box and all, once the upload is done.
//
// "/" opens the canned replies (canned.js). A reply whose variables had no value in
// this conversation comes in with `{name}` gaps: the composer keeps those names, shows
// them under the text box and sends nothing until each gap is filled.

import { AttachmentPicker } from "./attachments.js";
import { CannedPicker, Gaps } from "./canned.js";
import { byId } from "./dom.js";
import { VoiceRecorder } from "./recorder.js";

// A `typing: true` goes out at most this often while the agent types...
const TYPING_EVERY_MS = 3_000;
// ...and `typing: false` after this long without a key press.
const TYPING_IDLE_MS = 4_000;
const DEFAULT_MAX_CHARS = 4000;

const MODES = {
  reply: {
    label: "Reply to the shopper",
    placeholder: "Reply to the shopper (Enter sends, Shift+Enter for a new line)",
    send: "Send",
  },
  note: {
    label: "Internal note: only agents see it",
    placeholder: "Write an internal note; the shopper never sees it",
    send: "Add note",
  },
};

export class Composer {
  #socket;
  #transcripts;
  #isApplied;
  #onLeave;
  #onError;
  #form = byId("composer");
  #input = byId("reply-input");
  #sendButton = byId("reply-send");
  #modeButton = byId("mode-note");
  #modeLabel = byId("composer-mode");
  #counter = byId("reply-counter");
  #error = byId("composer-error");
  #picker;
  #files; // photos and PDFs going with the next reply (attachments.js)
  #attachButton = byId("attach-button");
  #recorder; // voice notes (recorder.js)
  #sendWhenUploaded = false; // a recorded voice note waits for its upload, then goes
  #gaps = new Gaps(this.#input); // what inserted canned replies left to fill in
  #conversationId = null;
  #mode = "reply";
  #maxChars = DEFAULT_MAX_CHARS;
  #drafts = new Map(); // conversation id -> {text, mode, gaps}
  #outbox = new Map(); // client_id -> {clientId, conversationId, type, text, mode, state}
  #typing = { active: false, conversationId: null, sentAt: 0, idleTimer: 0, deferTimer: 0 };
  #listeners = [];
  #translates; // (conversation id) => whether a reply goes out translated (translation.js)

  /**
   * @param {object} deps
   * @param {(conversationId: number, seq: number) => boolean} deps.isApplied
   *   whether the console has already applied that event
   * @param {() => void} deps.onLeave  Escape in the text box
   * @param {(message: string) => void} deps.onError
   */
  constructor({ api, socket, transcripts, isApplied, onLeave, onError, translates }) {
    this.#translates = translates ?? (() => false);
    this.#files = new AttachmentPicker({
      api,
      button: this.#attachButton,
      input: byId("attach-input"),
      list: byId("composer-attachments"),
      dropZone: this.#form,
      onChange: () => {
        this.#refresh();
        this.#sendIfUploaded();
      },
    });
    this.#recorder = new VoiceRecorder({
      api,
      button: byId("record-button"),
      bar: byId("composer-recorder"),
      onRecorded: (file) => {
        if (this.#conversationId === null) return;
        this.#sendWhenUploaded = true;
        this.#files.add([file]);
      },
      onError: (message) => this.#showError(message),
    });
    this.#picker = new CannedPicker({
      api,
      input: this.#input,
      onPick: (item, range) => this.#insertCanned(item, range),
      onError,
    });
    this.#socket = socket;
    this.#transcripts = transcripts;
    this.#isApplied = isApplied;
    this.#onLeave = onLeave;
    this.#onError = onError;
    this.#listen(this.#form, "submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#listen(this.#modeButton, "click", () => {
      this.#setMode(this.#mode === "note" ? "reply" : "note");
      this.#input.focus();
    });
    this.#listen(this.#input, "keydown", (event) => this.#onKey(event));
    this.#listen(this.#input, "input", () => this.#onInput());
    this.#listen(this.#input, "blur", () => {
      this.#stopTyping();
      this.#picker.close();
    });
    this.#setMode("reply");
    this.setConversation(null);
  }

  destroy() {
    this.#stopTyping();
    this.#picker.destroy();
    this.#recorder.destroy();
    this.#sendWhenUploaded = false;
    this.#files.destroy();
    this.#gaps.clear();
    for (const [node, type, listener] of this.#listeners) node.removeEventListener(type, listener);
    this.#outbox.clear();
    this.#drafts.clear();
    this.#conversationId = null;
    this.#input.value = "";
    this.#input.disabled = true;
    this.#modeButton.disabled = true;
    this.#attachButton.disabled = true;
    this.#setMode("reply");
    this.#showError("");
    this.#refresh();
  }

  /** The limits from `welcome`. */
  setLimits(limits) {
    const max = Number(limits?.max_message_chars);
    if (max > 0) this.#maxChars = max;
    this.#refresh();
  }

  /** Write into another conversation (or none); the draft of each is kept. */
  setConversation(id) {
    if (id === this.#conversationId && id !== null) return;
    this.#stopTyping();
    this.#saveDraft();
    this.#conversationId = id;
    this.#recorder.cancel(); // so does a recording
    this.#sendWhenUploaded = false;
    this.#files.clear(); // attached files stay with the conversation they were picked for
    this.#picker.setConversation(id);
    const draft = id === null ? null : this.#drafts.get(id);
    this.#input.value = draft?.text ?? "";
    this.#gaps.set(draft?.gaps ?? []);
    if (draft) this.#setMode(draft.mode);
    this.#input.disabled = id === null;
    this.#modeButton.disabled = id === null;
    this.#attachButton.disabled = id === null;
    this.#recorder.setEnabled(id !== null && this.#mode === "reply");
    this.#showError("");
    this.#refresh();
  }

  /** Put the cursor in the text box, in reply or note mode. */
  focus(mode) {
    if (this.#conversationId === null) return;
    if (mode) this.#setMode(mode);
    this.#input.focus();
  }

  /** Put a suggested reply in the text box (after what is there), to edit and send. */
  useText(text) {
    if (this.#conversationId === null) return;
    const current = this.#input.value.trim();
    this.#setMode("reply");
    this.#input.value = current ? `${current}\n${text}` : text;
    this.#refresh();
    this.#input.focus();
    this.#input.setSelectionRange(this.#input.value.length, this.#input.value.length);
  }

  /** The sends of a conversation still waiting for confirmation, oldest first. */
  pendingFor(conversationId) {
    return [...this.#outbox.values()].filter((item) => item.conversationId === conversationId);
  }

  /** After `welcome`: send what waited offline, and again what was in flight. */
  flush() {
    for (const item of this.#outbox.values()) {
      if (item.state !== "sent") this.#transmit(item);
    }
  }

  onAck(frame) {
    const item = this.#outbox.get(frame.ref) ?? this.#outbox.get(frame.client_id);
    if (!item) return;
    if (this.#isApplied(item.conversationId, frame.seq)) {
      this.#done(item);
      return;
    }
    // Stored; its event is on its way on the live feed (or was stored before: duplicate).
    item.state = "sent";
    this.#transcripts.updatePending(item);
  }

  /** An `error` frame; true if it answered one of our sends. */
  onError(frame) {
    const item = frame.ref === undefined ? null : this.#outbox.get(frame.ref);
    if (!item) return false;
    this.#done(item);
    this.#restore(item);
    const reason = frame.message || "The message could not be sent.";
    if (item.conversationId === this.#conversationId) this.#showError(reason);
    else this.#onError(`Not sent to conversation ${item.conversationId}: ${reason}`);
    return true;
  }

  /** An event from the live feed: the one of a pending send confirms it. */
  confirm(event) {
    const clientId = event.data?.client_id;
    const item = clientId ? this.#outbox.get(clientId) : null;
    if (item && item.conversationId === event.conversation_id) this.#done(item);
  }

  #submit() {
    const id = this.#conversationId;
    const text = this.#input.value.trim();
    const attachments = this.#files.ready;
    if (id === null || (!text && !attachments.length)) return;
    if (this.#files.busy) {
      this.#showError("Wait until the files have uploaded, or remove them.");
      return;
    }
    if (attachments.length && this.#mode === "note") {
      this.#showError("Files go with replies only: switch to Reply to send them.");
      return;
    }
    if (this.#gaps.open().length) {
      this.#showError(this.#gaps.complaint());
      this.#gaps.selectFirst();
      return;
    }
    const length = countChars(text);
    if (length > this.#maxChars) {
      const limit = this.#maxChars;
      this.#showError(`A message can have at most ${limit} characters; this one has ${length}.`);
      return;
    }
    const item = {
      clientId: newClientId(),
      conversationId: id,
      type: this.#mode === "note" ? "note.send" : "message.send",
      text,
      attachments,
      mode: this.#mode,
      state: "pending",
      // Decided when sent: a retry after a drop goes out the same way.
      translate: this.#mode === "reply" && Boolean(text) && this.#translates(id),
    };
    this.#stopTyping();
    this.#outbox.set(item.clientId, item);
    this.#input.value = "";
    this.#gaps.clear();
    this.#files.clear();
    this.#drafts.delete(id);
    this.#showError("");
    this.#refresh();
    this.#transcripts.addPending(item);
    this.#transmit(item);
  }

  /** A recorded voice note goes once its upload is done (after a retry, if it failed). */
  #sendIfUploaded() {
    if (!this.#sendWhenUploaded || this.#files.busy || this.#files.failed) return;
    this.#sendWhenUploaded = false;
    if (this.#files.ready.length) this.#submit();
  }

  #transmit(item) {
    const sent = this.#socket.send({
      type: item.type,
      client_id: item.clientId,
      conversation_id: item.conversationId,
      text: item.text,
      ref: item.clientId,
      ...(item.translate ? { translate: true } : {}),
      ...(item.attachments?.length ? { attachments: item.attachments.map((a) => a.id) } : {}),
    });
    item.state = sent ? "pending" : "queued";
    this.#transcripts.updatePending(item);
  }

  #done(item) {
    this.#outbox.delete(item.clientId);
    this.#transcripts.removePending(item.clientId);
  }

  /** A refused send's text back where the agent can fix and resend it. */
  #restore(item) {
    const merge = (current) => (current.trim() ? `${item.text}\n${current}` : item.text);
    if (item.conversationId === this.#conversationId) {
      this.#input.value = merge(this.#input.value);
      if (item.attachments?.length) this.#files.restore(item.attachments);
      this.#setMode(item.mode);
      this.#refresh();
    } else {
      const draft = this.#drafts.get(item.conversationId);
      this.#drafts.set(item.conversationId, { text: merge(draft?.text ?? ""), mode: item.mode });
    }
  }

  #onKey(event) {
    // While an input method composes (Chinese, Japanese...), Enter picks a candidate.
    const composing = event.isComposing || event.keyCode === 229;
    if (!composing && this.#picker.handleKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !composing) {
      event.preventDefault();
      this.#submit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.#input.blur();
      this.#onLeave();
    }
  }

  #onInput() {
    this.#showError("");
    this.#picker.update();
    this.#refresh();
    if (this.#mode === "reply" && this.#input.value.trim()) this.#typingPulse();
    else this.#stopTyping();
  }

  #setMode(mode) {
    this.#mode = mode;
    const words = MODES[mode];
    this.#form.classList.toggle("is-note", mode === "note");
    this.#modeButton.setAttribute("aria-pressed", String(mode === "note"));
    this.#modeLabel.textContent = words.label;
    this.#input.placeholder = words.placeholder;
    this.#input.setAttribute("aria-label", words.label);
    this.#sendButton.textContent = words.send;
    this.#recorder?.setEnabled(this.#conversationId !== null && mode === "reply");
    if (mode === "note") this.#stopTyping(); // a note is nothing the shopper should sense
  }

  #saveDraft() {
    if (this.#conversationId === null) return;
    const text = this.#input.value;
    const draft = { text, mode: this.#mode, gaps: this.#gaps.names };
    if (text.trim()) this.#drafts.set(this.#conversationId, draft);
    else this.#drafts.delete(this.#conversationId);
  }

  #refresh() {
    const length = countChars(this.#input.value.trim());
    const over = length > this.#maxChars;
    this.#counter.textContent = `${length} / ${this.#maxChars}`;
    this.#counter.classList.toggle("is-over", over);
    this.#counter.classList.toggle("is-near", !over && length > this.#maxChars * 0.9);
    const gaps = this.#gaps.render();
    const empty = length === 0 && this.#files.ready.length === 0;
    this.#sendButton.disabled = this.#conversationId === null || empty || over || gaps;
  }

  /** A canned reply picked in the list, in place of the "/shortcut" typed. */
  #insertCanned(item, { start, end }) {
    const value = this.#input.value;
    this.#input.value = value.slice(0, start) + item.text + value.slice(end);
    this.#gaps.add(item.missing ?? []);
    this.#showError("");
    this.#refresh();
    this.#input.focus();
    if (!this.#gaps.selectFirst()) {
      const caret = start + item.text.length;
      this.#input.setSelectionRange(caret, caret);
    }
    if (this.#mode === "reply") this.#typingPulse();
  }

  #showError(message) {
    this.#error.textContent = message;
    this.#error.hidden = !message;
  }

  /** A key press in reply mode: the shopper sees "typing" until the agent pauses. */
  #typingPulse() {
    const typing = this.#typing;
    if (typing.active && typing.conversationId !== this.#conversationId) this.#stopTyping();
    this.#sendTyping();
    clearTimeout(typing.idleTimer);
    typing.idleTimer = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
  }

  /** `typing: true` now, or as soon as the 3 s since the last one have passed. */
  #sendTyping() {
    const typing = this.#typing;
    const wait = typing.sentAt + TYPING_EVERY_MS - Date.now();
    if (wait > 0) {
      // Still signalled: the next key press after the wait renews it. Stopped (a send
      // just went out) but typing again: signal once the wait is over.
      if (!typing.active && !typing.deferTimer) {
        typing.deferTimer = setTimeout(() => {
          typing.deferTimer = 0;
          this.#sendTyping();
        }, wait);
      }
      return;
    }
    const frame = { type: "typing", conversation_id: this.#conversationId, state: true };
    if (this.#socket.send(frame)) {
      typing.active = true;
      typing.conversationId = this.#conversationId;
      typing.sentAt = Date.now();
    }
  }

  #stopTyping() {
    const typing = this.#typing;
    clearTimeout(typing.idleTimer);
    clearTimeout(typing.deferTimer);
    typing.deferTimer = 0;
    if (!typing.active) return;
    typing.active = false;
    this.#socket.send({ type: "typing", conversation_id: typing.conversationId, state: false });
  }

  #listen(node, type, listener) {
    node.addEventListener(type, listener);
    this.#listeners.push([node, type, listener]);
  }
}

/** Characters as the server counts them (code points, not UTF-16 units). */
function countChars(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** `c-` and a random UUID; getRandomValues where randomUUID needs HTTPS and is missing. */
function newClientId() {
  if (typeof crypto.randomUUID === "function") return `c-${crypto.randomUUID()}`;
  const hex = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
  return `c-${hex}`;
}
