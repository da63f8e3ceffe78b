/* Portside chat widget, attachments: photos, PDFs and voice notes in the shopper's chat.

   widget.js loads this file from its own server only when it is needed (the shopper
   presses the attach or microphone button, drops or pastes a file, or a message with
   attachments is shown) and calls window.PortsideMedia(api) once, with
     api = {ui, lang, key, base, token(), submit(files), t(key)}
   (its elements, language, widget key, server origin, the visitor token, the function
   that sends a message carrying uploaded attachments, the text box's text as caption,
   and widget.js's own strings). It answers with the hooks widget.js uses:
     show(box, files)  draw a message's attachments into `box`
     pick()            open the file picker
     take(fileList)    upload dropped or pasted files
     record(maxS)      record a voice note of at most maxS seconds; the recorder is in
                       widget-voice.js, loaded the first time; the recording is then
                       uploaded and sent like a picked file
   Same rules as widget.js: shadow DOM only, no HTML from strings (text only ever goes in
   through text nodes), styles through a constructable stylesheet, network traffic only
   to its own server. Uploads and URLs: docs/attachments.md. */
(() => {
  "use strict";

  const MAX_FILES = 5; // a message carries at most this many
  const ACCEPT = "image/jpeg,image/png,image/webp,image/gif,image/heic,application/pdf";
  const URL_MARGIN_MS = 20000; // a signed URL this close to expiring is asked for again
  const REFUSED = new Set([400, 404, 413, 415, 422]); // trying again will not help
  // widget-voice.js is this file's sibling (only while this file first runs is it known).
  const SRC = document.currentScript ? document.currentScript.src : "";

  const STRINGS = {
    en: {
      photo: "Photo",
      voice: "Voice note",
      uploading: "Uploading… {p}%",
      waiting: "Sent once the upload is done",
      failed: "Upload failed",
      refused: "This file can't be sent",
      retry: "Retry",
      remove: "Remove",
    },
    es: {
      photo: "Foto",
      voice: "Nota de voz",
      uploading: "Subiendo… {p}%",
      waiting: "Se enviará al terminar la subida",
      failed: "Error al subir",
      refused: "Este archivo no se puede enviar",
      retry: "Reintentar",
      remove: "Quitar",
    },
    zh: {
      photo: "图片",
      voice: "语音消息",
      uploading: "上传中… {p}%",
      waiting: "上传完成后发送",
      failed: "上传失败",
      refused: "无法发送此文件",
      retry: "重试",
      remove: "移除",
    },
    ja: {
      photo: "写真",
      voice: "ボイスメッセージ",
      uploading: "アップロード中… {p}%",
      waiting: "アップロード完了後に送信します",
      failed: "アップロードに失敗しました",
      refused: "このファイルは送信できません",
      retry: "再試行",
      remove: "削除",
    },
    de: {
      photo: "Foto",
      voice: "Sprachnachricht",
      uploading: "Wird hochgeladen… {p} %",
      waiting: "Wird nach dem Hochladen gesendet",
      failed: "Hochladen fehlgeschlagen",
      refused: "Diese Datei kann nicht gesendet werden",
      retry: "Erneut versuchen",
      remove: "Entfernen",
    },
    fr: {
      photo: "Photo",
      voice: "Message vocal",
      uploading: "Envoi du fichier… {p} %",
      waiting: "Envoyé dès la fin du transfert",
      failed: "Échec du transfert",
      refused: "Ce fichier ne peut pas être envoyé",
      retry: "Réessayer",
      remove: "Retirer",
    },
    pt: {
      photo: "Foto",
      voice: "Mensagem de voz",
      uploading: "Enviando arquivo… {p}%",
      waiting: "Será enviado quando o upload terminar",
      failed: "Falha no upload",
      refused: "Este arquivo não pode ser enviado",
      retry: "Tentar de novo",
      remove: "Remover",
    },
    ko: {
      photo: "사진",
      voice: "음성 메시지",
      uploading: "업로드 중… {p}%",
      waiting: "업로드가 끝나면 전송됩니다",
      failed: "업로드 실패",
      refused: "이 파일은 보낼 수 없습니다",
      retry: "다시 시도",
      remove: "삭제",
    },
    ar: {
      photo: "صورة",
      voice: "رسالة صوتية",
      uploading: "جارٍ الرفع… {p}٪",
      waiting: "ستُرسل بعد اكتمال الرفع",
      failed: "تعذّر الرفع",
      refused: "لا يمكن إرسال هذا الملف",
      retry: "إعادة المحاولة",
      remove: "إزالة",
    },
    ru: {
      photo: "Фото",
      voice: "Голосовое сообщение",
      uploading: "Загрузка… {p}%",
      waiting: "Отправится после загрузки",
      failed: "Не удалось загрузить",
      refused: "Этот файл нельзя отправить",
      retry: "Повторить",
      remove: "Убрать",
    },
  };

  const CSS = `
.composer { grid-template-columns: auto 1fr auto; }
.files { display: grid; gap: 6px; margin-top: 4px; }
.thumb { display: block; max-width: 220px; border-radius: 8px; overflow: hidden; }
.thumb img { display: block; max-width: 100%; max-height: 220px; object-fit: contain; }
.file { color: inherit; text-decoration: underline; overflow-wrap: anywhere; }
.voice { display: grid; gap: 2px; font-size: 12px; }
.voice audio { max-width: 240px; }
.said { margin: 2px 0 0; font-size: 13px; font-style: italic; white-space: pre-wrap; }
.tray { grid-column: 1 / -1; display: grid; gap: 6px; margin: 0; padding: 0; list-style: none; }
.upload {
  display: grid; grid-template-columns: 1fr auto auto; gap: 6px; align-items: center;
  font-size: 13px;
}
.upload-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.upload progress { grid-column: 1 / -1; width: 100%; height: 6px; }
.upload-state { grid-column: 1 / -1; font-size: 12px; color: var(--muted); }
.upload[data-state="failed"] .upload-state { color: var(--danger); }
.upload button { min-height: 32px; font-size: 13px; }
`;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  /** A valid attachment from an event, a cache or an upload answer, or null. */
  function attachment(value) {
    if (!value || typeof value !== "object" || !Number.isInteger(value.id)) return null;
    if (!["image", "file", "voice"].includes(value.kind)) return null;
    return {
      id: value.id,
      kind: value.kind,
      name: typeof value.name === "string" && value.name ? value.name : null,
      durationMs: Number.isFinite(value.duration_ms) ? value.duration_ms : null,
      thumbnail: value.thumbnail === true,
      // A voice note's words, when the store shares transcripts (widget.js keeps them).
      transcript: typeof value.transcript === "string" ? value.transcript : "",
    };
  }

  function duration(ms, floor) {
    const s = (floor ? Math.floor : Math.round)(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  window.PortsideMedia = (api) => {
    const strings = STRINGS[api.lang] || STRINGS.en;
    const t = (key, args) =>
      (strings[key] || STRINGS.en[key]).replace(/\{(\w+)\}/g, (_, name) => String(args[name]));
    const shadow = api.ui.root.getRootNode();
    const style = (css) => {
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
      } catch {
        shadow.append(el("style", {}, [css]));
      }
    };
    style(CSS);
    const endpoint = (path) => `${api.base}${path}?store=${encodeURIComponent(api.key)}`;

    // ---- the signed URLs (they expire: asked for when shown, again when stale) ----------

    const urls = new Map(); // attachment id -> Promise of {url, thumb, until}

    function fetchUrls(id) {
      const cached = urls.get(id);
      if (cached) return cached;
      const asked = fetch(endpoint(`/api/v1/attachments/${id}/url`), {
        headers: { Authorization: `Bearer ${api.token()}` },
        credentials: "omit",
      })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((body) => {
          const until = Date.parse(body.expires_at) || Date.now();
          setTimeout(() => urls.delete(id), Math.max(0, until - Date.now() - URL_MARGIN_MS));
          return { url: body.url, thumb: body.thumbnail_url || body.url };
        });
      asked.catch(() => urls.delete(id));
      urls.set(id, asked);
      return asked;
    }

    /** A link whose signed URL is fetched when shown and fetched again if it went stale. */
    function link(node, id, onUrls) {
      let fresh = false;
      const load = () =>
        fetchUrls(id).then((got) => {
          fresh = true;
          node.href = got.url;
          if (onUrls) onUrls(got);
          setTimeout(() => (fresh = false), 60000);
          return got;
        });
      load().catch(() => {});
      node.addEventListener("click", (event) => {
        if (fresh) return;
        event.preventDefault();
        load().then((got) => window.open(got.url, "_blank", "noopener"), () => {});
      });
    }

    function show(box, files) {
      const parts = [];
      for (const value of Array.isArray(files) ? files : []) {
        const file = attachment(value);
        if (!file) continue;
        if (file.kind === "image") {
          const img = el("img", { alt: file.name || t("photo"), "data-testid": "attachment-image" });
          const a = el("a", { class: "thumb", target: "_blank", rel: "noopener" }, [img]);
          link(a, file.id, (got) => {
            if (!img.src) img.src = got.thumb;
          });
          parts.push(a);
        } else if (file.kind === "file") {
          const a = el("a", { class: "file", "data-testid": "attachment-file", download: "" }, [
            file.name || "PDF",
          ]);
          link(a, file.id);
          parts.push(a);
        } else {
          const audio = el("audio", { controls: true, preload: "none", "data-testid": "attachment-voice" });
          fetchUrls(file.id).then((got) => (audio.src = got.url), () => {});
          const label = [t("voice"), file.durationMs ? duration(file.durationMs) : ""].join(" ");
          const said = file.transcript && el("p", { class: "said", "data-testid": "attachment-transcript" }, [file.transcript]);
          parts.push(el("div", { class: "voice" }, [el("span", {}, [label.trim()]), audio, said || ""]));
        }
      }
      box.className = "files";
      box.replaceChildren(...parts);
    }

    // ---- sending: the tray of uploads under the text box ------------------------------

    const tray = el("ul", { class: "tray", "data-testid": "uploads" });
    api.ui.form.insertBefore(tray, api.ui.counter);
    const picker = el("input", { type: "file", accept: ACCEPT, multiple: true, hidden: true });
    picker.addEventListener("change", () => {
      take(picker.files);
      picker.value = "";
    });
    tray.after(picker);
    const uploads = []; // {file, state: "uploading"|"done"|"failed"|"refused", result, li}
    let sendWhenDone = false;

    function pick() {
      picker.click();
    }

    function take(list) {
      for (const file of Array.from(list || [])) add(file);
    }

    function add(file, label) {
      if (uploads.length >= MAX_FILES) return;
      const item = { file, label, state: "uploading", result: null, li: el("li", { class: "upload" }) };
      uploads.push(item);
      tray.append(item.li);
      upload(item);
    }

    function upload(item) {
      item.state = "uploading";
      drawItem(item, 0);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", endpoint("/api/v1/uploads"));
      xhr.setRequestHeader("Authorization", `Bearer ${api.token()}`);
      if (item.file.name) xhr.setRequestHeader("X-Filename", encodeURIComponent(item.file.name));
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) drawItem(item, event.loaded / event.total);
      };
      xhr.onload = () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = null;
        }
        if (xhr.status === 201 && attachment(body)) {
          item.state = "done";
          item.result = body;
        } else item.state = REFUSED.has(xhr.status) ? "refused" : "failed";
        drawItem(item, 1);
        if (sendWhenDone) sendNow();
      };
      xhr.onerror = () => {
        item.state = "failed";
        drawItem(item, 0);
      };
      xhr.send(item.file);
    }

    function drawItem(item, share) {
      if (share !== undefined) item.share = share;
      const { li } = item;
      li.dataset.state = item.state;
      const parts = [el("span", { class: "upload-name" }, [item.label || item.file.name || t("photo")])];
      if (item.state === "failed") {
        const retry = el("button", { type: "button", "data-testid": "upload-retry" }, [t("retry")]);
        retry.addEventListener("click", () => upload(item));
        parts.push(retry);
      } else parts.push(el("span"));
      const remove = el("button", { type: "button", "aria-label": t("remove") }, ["×"]);
      remove.addEventListener("click", () => {
        const at = uploads.indexOf(item);
        if (at >= 0) uploads.splice(at, 1);
        li.remove();
        if (sendWhenDone) sendNow();
      });
      parts.push(remove);
      let line = "";
      if (item.state === "uploading") {
        const p = Math.round((item.share || 0) * 100);
        parts.push(el("progress", { max: "100", value: String(p), "aria-hidden": "true" }));
        line = sendWhenDone ? t("waiting") : t("uploading", { p });
      } else if (item.state === "failed") line = t("failed");
      else if (item.state === "refused") line = t("refused");
      parts.push(el("span", { class: "upload-state", role: "status" }, [line]));
      li.replaceChildren(...parts);
    }

    /** The message goes once every upload is done; refused ones are left out. */
    function sendNow() {
      if (uploads.some((item) => item.state === "uploading" || item.state === "failed")) {
        sendWhenDone = true;
        for (const item of uploads) if (item.state === "uploading") drawItem(item);
        return;
      }
      sendWhenDone = false;
      const files = uploads.filter((item) => item.state === "done").map((item) => item.result);
      // A refused file (a voice note too long, say) stays in sight, saying so, until its
      // × or the next send; it is out of `uploads`, so it holds nothing back.
      tray.replaceChildren(...uploads.filter((item) => item.state === "refused").map((item) => item.li));
      uploads.length = 0;
      if (files.length) api.submit(files);
    }

    // The form's own Send (button or Enter) sends the tray when there is one: these
    // listeners run first (capture on the form), before widget.js's own.
    api.ui.form.addEventListener(
      "submit",
      (event) => {
        if (!uploads.length) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        sendNow();
      },
      true,
    );
    api.ui.form.addEventListener(
      "keydown",
      (event) => {
        if (!uploads.length || event.target !== api.ui.input || event.key !== "Enter") return;
        if (event.shiftKey || event.isComposing || event.keyCode === 229) return;
        event.preventDefault();
        event.stopPropagation();
        sendNow();
      },
      true,
    );

    // ---- voice notes: recorded by widget-voice.js, then sent like a picked file -------

    let voiceLoad = null;

    function record(maxS) {
      voiceLoad ||= new Promise((done, fail) => {
        const tag = el("script", { src: new URL("widget-voice.js", SRC || `${api.base}/`).href });
        const send = (file, ms) => {
          add(file, `${t("voice")} ${duration(ms, true)}`);
          sendNow(); // it goes as soon as it is uploaded
        };
        const env = { ui: api.ui, lang: api.lang, t: api.t, el, duration, style, before: tray, send };
        tag.onload = () => done(window.PortsideVoice(env));
        tag.onerror = () => fail((voiceLoad = null));
        document.head.append(tag);
      });
      return voiceLoad.then((voice) => voice.record(maxS));
    }

    return { show, pick, take, record };
  };
})();
