// Voice notes recorded in the composer (MediaRecorder), the way the widget records them.
//
// Record asks for the microphone; a timer runs up to the store's limit (`max_voice_s` of
// the attachments settings: the server refuses anything longer, so the recording stops
// just before it); Cancel throws the recording away, nothing uploaded; Send hands it to
// the composer, which uploads it like a picked file and sends the reply once it is up.
// The button shows only where the browser can record and the store takes voice notes.

import { h } from "./dom.js";

// What MediaRecorder is asked for, the first it can make (Chromium and Firefox:
// WebM/Opus; Safari: MP4/AAC). The server takes each and stores AAC in MP4.
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
// The recording stops this long before the store's limit.
const MARGIN_MS = 500;
const TICK_MS = 250;
const DENIED = new Set(["NotAllowedError", "SecurityError"]);

/** Whether this browser can record audio (MediaRecorder and a microphone API). */
export function canRecord() {
  return typeof MediaRecorder === "function" && Boolean(navigator.mediaDevices?.getUserMedia);
}

export class VoiceRecorder {
  #button;
  #bar;
  #onRecorded;
  #onError;
  #maxS = 0; // the store's limit in seconds; 0 while unknown or if it takes no voice notes
  #enabled = false;
  #rec = null; // the recording under way, or stopped at the limit and not yet sent
  #starting = false;
  #onClick = () => this.start();

  /**
   * @param {object} deps
   * @param {HTMLButtonElement} deps.button  starts a recording
   * @param {HTMLElement} deps.bar  where the timer, Cancel and Send show while recording
   * @param {(file: File) => void} deps.onRecorded  a finished recording, to send
   * @param {(message: string) => void} deps.onError
   */
  constructor({ api, button, bar, onRecorded, onError }) {
    this.#button = button;
    this.#bar = bar;
    this.#onRecorded = onRecorded;
    this.#onError = onError;
    button.hidden = true;
    bar.hidden = true;
    button.addEventListener("click", this.#onClick);
    if (!canRecord()) return;
    api.get("/api/v1/settings/attachments").then(
      (settings) => {
        const takes = Array.isArray(settings?.kinds) && settings.kinds.includes("voice");
        this.#maxS = takes ? Number(settings.max_voice_s) || 0 : 0;
        button.hidden = this.#maxS === 0;
        this.#refresh();
      },
      () => {}, // no button: the console works on without it
    );
  }

  destroy() {
    this.cancel();
    this.#button.removeEventListener("click", this.#onClick);
    this.#button.hidden = true;
  }

  /** Whether Record may be pressed (a conversation is open, in reply mode). */
  setEnabled(enabled) {
    this.#enabled = enabled;
    this.#refresh();
  }

  /** Throw away a recording under way (the conversation changed, or logout). */
  cancel() {
    this.#finish(false);
  }

  async start() {
    if (this.#rec || this.#starting || !this.#enabled || this.#maxS === 0) return;
    this.#starting = true;
    this.#refresh();
    let stream = null;
    let recorder = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = TYPES.find((candidate) => MediaRecorder.isTypeSupported(candidate));
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    } catch (error) {
      for (const track of stream?.getTracks() ?? []) track.stop();
      this.#starting = false;
      this.#refresh();
      this.#onError(
        DENIED.has(error?.name)
          ? "The browser did not allow the microphone: allow it for this site (the icon in the address bar), then press Record again."
          : "No microphone is available to record a voice note.",
      );
      return;
    }
    this.#starting = false;
    const rec = { recorder, stream, chunks: [], started: Date.now(), ms: 0, timer: 0 };
    rec.stopped = new Promise((done) => recorder.addEventListener("stop", done, { once: true }));
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data?.size) rec.chunks.push(event.data);
    });
    recorder.addEventListener("error", () => {
      this.#finish(false);
      this.#onError("The recording stopped: the microphone failed.");
    });
    this.#rec = rec;
    this.#render(rec);
    try {
      recorder.start(1000); // a chunk a second
    } catch {
      this.#finish(false);
      this.#onError("This browser cannot record a voice note.");
    }
  }

  #render(rec) {
    const limit = this.#maxS;
    const time = h("span", { class: "rec-time", role: "timer", "data-testid": "record-timer", text: "0:00" });
    const note = h("span", { class: "rec-note", "data-testid": "record-limit", text: `of ${clock(limit * 1000)}` });
    const dot = h("span", { class: "rec-dot", "aria-hidden": "true" });
    const cancel = h("button", { type: "button", class: "quiet", "data-testid": "record-cancel", text: "Cancel" });
    const send = h("button", { type: "button", class: "primary", "data-testid": "record-send", text: "Send voice note" });
    cancel.addEventListener("click", () => this.#finish(false));
    send.addEventListener("click", () => this.#finish(true));
    this.#bar.replaceChildren(dot, h("span", { text: "Recording" }), time, note, cancel, send);
    this.#bar.hidden = false;
    this.#refresh();
    rec.timer = setInterval(() => {
      rec.ms = Date.now() - rec.started;
      time.textContent = clock(rec.ms);
      if (rec.ms < limit * 1000 - MARGIN_MS) return;
      stop(rec); // the store's limit: Send or Cancel decide
      dot.hidden = true;
      note.textContent = "the longest a voice note can be";
    }, TICK_MS);
    send.focus();
  }

  #finish(keep) {
    const rec = this.#rec;
    if (!rec) return;
    this.#rec = null;
    stop(rec);
    this.#bar.hidden = true;
    this.#bar.replaceChildren();
    this.#refresh();
    if (!keep) return;
    rec.stopped.then(() => {
      if (!rec.chunks.length) return;
      const type = rec.recorder.mimeType || rec.chunks[0].type || "audio/webm";
      const ext = type.includes("mp4") ? "m4a" : type.includes("ogg") ? "ogg" : "webm";
      this.#onRecorded(new File(rec.chunks, `voice-note.${ext}`, { type }));
    });
  }

  #refresh() {
    this.#button.disabled = !this.#enabled || this.#rec !== null || this.#starting;
    this.#button.setAttribute("aria-pressed", String(this.#rec !== null));
  }
}

function stop(rec) {
  clearInterval(rec.timer);
  if (rec.recorder.state !== "inactive") {
    rec.ms = Date.now() - rec.started;
    rec.recorder.stop();
  }
  for (const track of rec.stream.getTracks()) track.stop(); // the browser's mic light goes off
}

/** m:ss, whole seconds elapsed. */
function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
