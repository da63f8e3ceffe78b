// Attachments in the console: photos, PDFs and voice notes (docs/attachments.md).
//
// Events carry an attachment's id, kind and size, never a URL: a URL is asked for
// (GET /api/v1/attachments/{id}/url) when its thumbnail or player comes into view, and
// again when it has expired. A click on a photo or a PDF asks for a fresh one first.
// The composer's picker uploads photos and PDFs (button, paste, drag and drop) and
// recorded voice notes (recorder.js) with POST /api/v1/uploads before the reply names
// them in `attachments`; an upload the network or server failed can be retried.

import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { words } from "./format.js";

// A URL is asked for again this long before it expires.
const URL_MARGIN_MS = 20_000;
// At most this many attachments with one message (the server's limit).
export const MAX_ATTACHMENTS = 5;
const PICKABLE = "image/jpeg,image/png,image/webp,image/gif,image/heic,application/pdf";

const urls = new Map(); // attachment id -> {promise, until}

/** Forget the URLs asked for (on logout: the next agent asks again). */
export function forgetUrls() {
  urls.clear();
}

/** `{url, thumbnail_url, expires_at}` of an attachment, reused until it nearly expires. */
export function urlsFor(api, id, { fresh = false } = {}) {
  const known = urls.get(id);
  if (known && !fresh && known.until > Date.now()) return known.promise;
  const promise = api.get(`/api/v1/attachments/${encodeURIComponent(String(id))}/url`);
  const entry = { promise, until: Date.now() + 60_000 };
  urls.set(id, entry);
  promise.then(
    (answer) => {
      const expires = Date.parse(answer?.expires_at ?? "");
      entry.until = Number.isFinite(expires) ? expires - URL_MARGIN_MS : 0;
    },
    () => urls.delete(id),
  );
  return promise;
}

// Thumbnails and players get their URL once they are on screen.
const waiting = new WeakMap(); // node -> load()
let observer = null;

function whenShown(node, load) {
  if (typeof IntersectionObserver !== "function") {
    load();
    return;
  }
  observer ??= new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const run = waiting.get(entry.target);
      waiting.delete(entry.target);
      run?.();
    }
  });
  waiting.set(node, load);
  observer.observe(node);
}

/** A photo's thumbnail; a click opens it full size in a new tab. */
export function imageThumbnail(api, id, { label = "Photo", testId = "attachment-image" } = {}) {
  const img = h("img", { alt: label, "data-testid": testId, loading: "lazy" });
  const button = h(
    "button",
    { type: "button", class: "att-image", title: `${label}: open full size` },
    img,
  );
  let retried = false;
  const load = (fresh = false) =>
    urlsFor(api, id, { fresh }).then(
      (answer) => {
        img.src = answer.thumbnail_url || answer.url;
      },
      () => button.classList.add("is-missing"),
    );
  img.addEventListener("error", () => {
    if (retried || !img.getAttribute("src")) return;
    retried = true; // the URL may have expired while the page slept
    load(true);
  });
  button.addEventListener("click", () => openFresh(api, id));
  whenShown(button, () => load());
  return button;
}

/** Open an attachment's full-size URL (asked for afresh) in a new tab. */
async function openFresh(api, id) {
  const tab = window.open("", "_blank");
  try {
    const answer = await urlsFor(api, id, { fresh: true });
    if (tab) {
      tab.opener = null;
      tab.location.href = answer.url;
    } else window.location.assign(answer.url);
  } catch {
    tab?.close();
  }
}

/** The attachments of a message, one item each (`data-attachment-id` on each). */
export function renderAttachments(api, list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h(
    "ul",
    { class: "attachments", "data-testid": "message-attachments" },
    ...list.map((item) => renderAttachment(api, item)),
  );
}

function renderAttachment(api, item) {
  const id = item?.id;
  const props = {
    class: `attachment is-${item?.kind ?? "file"}`,
    "data-testid": "attachment",
    "data-attachment-id": String(id),
    "data-kind": String(item?.kind ?? "file"),
  };
  if (item?.kind === "image") {
    return h("li", props, imageThumbnail(api, id, { label: item.name || "Photo" }));
  }
  if (item?.kind === "voice") {
    const audio = h("audio", { controls: true, preload: "none", "data-testid": "attachment-audio" });
    let retried = false;
    const load = (fresh = false) =>
      urlsFor(api, id, { fresh }).then(
        (answer) => {
          audio.src = answer.url;
        },
        () => audio.classList.add("is-missing"),
      );
    audio.addEventListener("error", () => {
      if (retried || !audio.getAttribute("src")) return;
      retried = true;
      load(true);
    });
    whenShown(audio, () => load());
    const seconds = Math.round((Number(item.duration_ms) || 0) / 1000);
    return h(
      "li",
      props,
      h("span", { class: "att-label", text: `Voice note${seconds ? ` (${duration(seconds)})` : ""}` }),
      audio,
    );
  }
  const name = item?.name || "Document.pdf";
  const link = h("a", {
    href: "#",
    class: "att-file",
    "data-testid": "attachment-file",
    text: `${name} (${size(item?.size)})`,
  });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    urlsFor(api, id, { fresh: true }).then(
      (answer) => window.location.assign(answer.url), // served as a download
      () => link.classList.add("is-missing"),
    );
  });
  return h("li", props, link);
}

/**
 * An `attachment.transcribed` / `attachment.described` event: its text goes under the
 * voice note or photo it is about, wherever that is in `root`. True if it was placed.
 */
export function addAttachmentNote(root, event) {
  const data = event.data ?? {};
  const id = String(data.attachment_id ?? "");
  const item = id ? root.querySelector(`[data-attachment-id="${CSS.escape(id)}"]`) : null;
  if (!item) return false;
  const transcript = event.type === "attachment.transcribed";
  const testId = transcript ? "attachment-transcript" : "attachment-description";
  item.querySelector(`[data-testid="${testId}"]`)?.remove();
  const label = transcript ? "Transcript" : "What the photo shows";
  const labels = Array.isArray(data.labels) ? data.labels.filter((l) => l !== "other") : [];
  const extra = transcript
    ? data.language
      ? ` (${data.language})`
      : ""
    : labels.length
      ? ` (${labels.map(words).join(", ")})`
      : "";
  item.append(
    h(
      "p",
      { class: "att-note", "data-testid": testId },
      h("span", { class: "att-note-label", text: `${label}${extra}: ` }),
      String(data.text ?? ""),
    ),
  );
  return true;
}

/** The event types that add to an attachment shown earlier. */
export const ATTACHMENT_NOTES = new Set(["attachment.transcribed", "attachment.described"]);

/**
 * The composer's attachments: picked with the button, pasted or dropped, uploaded at
 * once with their progress shown, and named by the next reply.
 */
export class AttachmentPicker {
  #api;
  #list;
  #input;
  #onChange;
  #items = []; // {key, name, state: "uploading"|"ready"|"failed", progress, attachment, xhr, error}
  #next = 0;
  #listeners = [];

  /**
   * @param {object} deps
   * @param {HTMLElement} deps.button  opens the file chooser
   * @param {HTMLInputElement} deps.input  the hidden <input type=file>
   * @param {HTMLElement} deps.list  where the picked files are shown
   * @param {HTMLElement} deps.dropZone  takes drops and pastes
   * @param {() => void} deps.onChange  the files or their states changed
   */
  constructor({ api, button, input, list, dropZone, onChange }) {
    this.#api = api;
    this.#list = list;
    this.#input = input;
    this.#onChange = onChange;
    input.accept = PICKABLE;
    input.multiple = true;
    this.#listen(button, "click", () => input.click());
    this.#listen(input, "change", () => {
      this.add([...(input.files ?? [])]);
      input.value = "";
    });
    this.#listen(dropZone, "paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.add(files);
    });
    this.#listen(dropZone, "dragover", (event) => {
      if (!event.dataTransfer?.types?.includes("Files")) return;
      event.preventDefault();
      dropZone.classList.add("is-dropping");
    });
    this.#listen(dropZone, "dragleave", () => dropZone.classList.remove("is-dropping"));
    this.#listen(dropZone, "drop", (event) => {
      dropZone.classList.remove("is-dropping");
      const files = [...(event.dataTransfer?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.add(files);
    });
  }

  destroy() {
    for (const [node, type, listener] of this.#listeners) node.removeEventListener(type, listener);
    this.clear();
  }

  /** Upload these files (a message takes at most five). */
  add(files) {
    for (const file of files) {
      if (this.#items.length >= MAX_ATTACHMENTS) {
        this.#items.push(failed(this.#next++, file.name, `At most ${MAX_ATTACHMENTS} files go with one message.`));
        break;
      }
      const item = { key: this.#next++, name: file.name || "file", state: "uploading", progress: 0 };
      this.#items.push(item);
      this.#upload(item, file);
    }
    this.#render();
  }

  /** Whether something is still uploading. */
  get busy() {
    return this.#items.some((item) => item.state === "uploading");
  }

  /** Whether an upload failed (and is still listed). */
  get failed() {
    return this.#items.some((item) => item.state === "failed");
  }

  /** The uploads ready to send. */
  get ready() {
    return this.#items.filter((item) => item.state === "ready").map((item) => item.attachment);
  }

  /** Forget everything picked (after a send; uploads in flight are stopped). */
  clear() {
    for (const item of this.#items) item.xhr?.abort();
    this.#items = [];
    this.#render();
  }

  /** Put back the attachments of a refused send. */
  restore(attachments) {
    for (const attachment of attachments) {
      this.#items.push({
        key: this.#next++,
        name: attachment.name || kindName(attachment.kind),
        state: "ready",
        progress: 1,
        attachment,
      });
    }
    this.#render();
  }

  #upload(item, file) {
    // XMLHttpRequest: fetch() cannot report upload progress.
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    item.file = file;
    item.retryable = false;
    xhr.open("POST", "/api/v1/uploads");
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    if (file.type) xhr.setRequestHeader("Content-Type", file.type);
    if (this.#api.csrfToken) xhr.setRequestHeader("X-CSRF-Token", this.#api.csrfToken);
    if (file.name) xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      item.progress = event.loaded / event.total;
      this.#render();
    });
    xhr.addEventListener("load", () => {
      item.xhr = null;
      let payload = null;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        // Only the status says anything.
      }
      if (xhr.status === 201 && payload?.id) {
        item.state = "ready";
        item.progress = 1;
        item.attachment = payload;
      } else {
        item.state = "failed";
        item.error = payload?.error?.message ?? `The upload failed (HTTP ${xhr.status}).`;
        // A refusal (4xx) says what is wrong with the file; the same file would fail again.
        item.retryable = xhr.status >= 500 || xhr.status === 429;
        if (payload?.error?.code === "not_authenticated") {
          this.#api.onSessionEnded?.(new ApiError(401, "not_authenticated", item.error));
        }
      }
      this.#render();
    });
    xhr.addEventListener("error", () => {
      item.xhr = null;
      item.state = "failed";
      item.error = "Portside cannot be reached; check your connection.";
      item.retryable = true;
      this.#render();
    });
    xhr.send(file);
  }

  #remove(key) {
    const index = this.#items.findIndex((item) => item.key === key);
    if (index < 0) return;
    this.#items[index].xhr?.abort();
    this.#items.splice(index, 1);
    this.#render();
  }

  #render() {
    this.#list.replaceChildren(...this.#items.map((item) => this.#chip(item)));
    this.#list.hidden = this.#items.length === 0;
    this.#onChange();
  }

  #chip(item) {
    const remove = h("button", {
      type: "button",
      class: "quiet att-remove",
      "data-testid": "composer-attachment-remove",
      "aria-label": `Remove ${item.name}`,
      text: "×",
    });
    remove.addEventListener("click", () => this.#remove(item.key));
    let retry = null;
    if (item.state === "failed" && item.retryable) {
      retry = h("button", { type: "button", class: "quiet", "data-testid": "composer-attachment-retry", text: "Retry" });
      retry.addEventListener("click", () => {
        item.state = "uploading";
        item.progress = 0;
        this.#upload(item, item.file);
        this.#render();
      });
    }
    return h(
      "li",
      {
        class: `att-chip is-${item.state}`,
        "data-testid": "composer-attachment",
        "data-state": item.state,
      },
      h("span", { class: "att-chip-name", text: item.name }),
      item.state === "uploading"
        ? h("progress", { max: "1", value: String(item.progress), "aria-label": `Uploading ${item.name}` })
        : null,
      item.state === "failed"
        ? h("span", { class: "att-chip-error", role: "alert", text: item.error ?? "Not uploaded." })
        : null,
      retry,
      remove,
    );
  }

  #listen(node, type, listener) {
    node.addEventListener(type, listener);
    this.#listeners.push([node, type, listener]);
  }
}

function failed(key, name, error) {
  return { key, name: name || "file", state: "failed", progress: 0, error };
}

function kindName(kind) {
  return { image: "Photo", voice: "Voice note" }[kind] ?? "File";
}

function duration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return `${m}:${s}`;
}

function size(bytes) {
  const n = Number(bytes) || 0;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}
