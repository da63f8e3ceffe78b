/* Portside chat widget, voice notes recorded in the browser (MediaRecorder): press the
   microphone, a timer runs up to the store's limit, Cancel throws the recording away,
   Send hands it to widget-media.js, which uploads it (progress, retry) and sends it once
   uploaded, like a picked file.

   widget-media.js loads this file from its own server the first time the shopper presses
   the microphone button and calls window.PortsideVoice(env) once, with
     env = {ui, lang, t(key), el, duration(ms, floor), style(css), before, send(file, ms)}
   (widget.js's elements, language and strings; widget-media.js's element maker, m:ss
   formatter and stylesheet adopter; the node the recorder goes before; and what takes a
   finished recording and its length). It answers {record(maxS)}.
   Same rules as widget.js: shadow DOM only, text only through text nodes, no network
   traffic of its own. */
(() => {
  "use strict";

  // What MediaRecorder is asked for, the first it can make (Chromium and Firefox:
  // WebM/Opus; Safari: MP4/AAC). The server takes each and stores AAC in MP4.
  const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
  // A recording stops this long before the store's limit: the server refuses any longer.
  const MARGIN_MS = 500;
  const TICK_MS = 250;
  const DENIED = new Set(["NotAllowedError", "SecurityError"]);

  const STRINGS = {
    en: {
      recording: "Recording",
      cancel: "Cancel",
      micDenied: "To record a voice note, allow this site to use your microphone.",
      micMissing: "No microphone is available to record a voice note.",
      limit: "Maximum length reached",
    },
    es: {
      recording: "Grabando",
      cancel: "Cancelar",
      micDenied: "Para grabar una nota de voz, permite que este sitio use tu micrófono.",
      micMissing: "No hay ningún micrófono disponible para grabar una nota de voz.",
      limit: "Duración máxima alcanzada",
    },
    zh: {
      recording: "正在录音",
      cancel: "取消",
      micDenied: "要录制语音消息，请允许此网站使用你的麦克风。",
      micMissing: "没有可用的麦克风，无法录制语音消息。",
      limit: "已达最长时长",
    },
    ja: {
      recording: "録音中",
      cancel: "キャンセル",
      micDenied: "ボイスメッセージを録音するには、このサイトにマイクの使用を許可してください。",
      micMissing: "ボイスメッセージを録音できるマイクがありません。",
      limit: "最大の長さに達しました",
    },
    de: {
      recording: "Aufnahme läuft",
      cancel: "Abbrechen",
      micDenied: "Um eine Sprachnachricht aufzunehmen, erlauben Sie dieser Website den Zugriff auf Ihr Mikrofon.",
      micMissing: "Es ist kein Mikrofon für eine Sprachnachricht verfügbar.",
      limit: "Maximale Länge erreicht",
    },
    fr: {
      recording: "Enregistrement",
      cancel: "Annuler",
      micDenied: "Pour enregistrer un message vocal, autorisez ce site à utiliser votre micro.",
      micMissing: "Aucun micro n'est disponible pour enregistrer un message vocal.",
      limit: "Durée maximale atteinte",
    },
    pt: {
      recording: "Gravando",
      cancel: "Cancelar",
      micDenied: "Para gravar uma mensagem de voz, permita que este site use seu microfone.",
      micMissing: "Nenhum microfone disponível para gravar uma mensagem de voz.",
      limit: "Duração máxima atingida",
    },
    ko: {
      recording: "녹음 중",
      cancel: "취소",
      micDenied: "음성 메시지를 녹음하려면 이 사이트에서 마이크를 사용하도록 허용하세요.",
      micMissing: "음성 메시지를 녹음할 마이크가 없습니다.",
      limit: "최대 길이에 도달했습니다",
    },
    ar: {
      recording: "جارٍ التسجيل",
      cancel: "إلغاء",
      micDenied: "لتسجيل رسالة صوتية، اسمح لهذا الموقع باستخدام الميكروفون.",
      micMissing: "لا يوجد ميكروفون متاح لتسجيل رسالة صوتية.",
      limit: "تم بلوغ المدة القصوى",
    },
    ru: {
      recording: "Идёт запись",
      cancel: "Отмена",
      micDenied: "Чтобы записать голосовое сообщение, разрешите этому сайту доступ к микрофону.",
      micMissing: "Нет микрофона для записи голосового сообщения.",
      limit: "Достигнута максимальная длина",
    },
  };

  const CSS = `
.rec { grid-column: 1 / -1; display: flex; gap: 8px; align-items: center; font-size: 14px; }
.rec-dot { width: 10px; height: 10px; border-radius: 50%; background: var(--danger); }
.rec-time { font-variant-numeric: tabular-nums; font-weight: 600; }
.rec-note { flex: 1; font-size: 12px; color: var(--muted); }
.rec button { min-height: 40px; }
.rec-error { grid-column: 1 / -1; margin: 0; font-size: 12px; color: var(--danger); }
.rec-error:empty { display: none; }
`;

  window.PortsideVoice = (env) => {
    const strings = STRINGS[env.lang] || STRINGS.en;
    const t = (key) => strings[key] || STRINGS.en[key];
    const { el, duration, ui } = env;
    env.style(CSS);
    const problem = el("p", { class: "rec-error", role: "alert", "data-testid": "record-error" });
    env.before.before(problem);
    let rec = null; // the recording under way, or stopped at the limit and not yet sent

    const button = (text, testid, css) => el("button", { type: "button", class: css, "data-testid": testid }, [text]);

    async function record(maxS) {
      if (rec || !(maxS > 0)) return;
      problem.textContent = "";
      ui.mic.disabled = true;
      let stream = null;
      let recorder = null;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        const type = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
        recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
      } catch (error) {
        if (stream) for (const track of stream.getTracks()) track.stop();
        ui.mic.disabled = false;
        problem.textContent = t(DENIED.has(error && error.name) ? "micDenied" : "micMissing");
        return;
      }
      const time = el("span", { class: "rec-time", role: "timer", "data-testid": "record-timer" }, ["0:00"]);
      const note = el("span", { class: "rec-note", "data-testid": "record-limit" }, [`/ ${duration(maxS * 1000)}`]);
      const dot = el("span", { class: "rec-dot", "aria-hidden": "true" });
      const cancel = button(t("cancel"), "record-cancel");
      const send = button(env.t("send"), "record-send", "send");
      const bar = el("div", { class: "rec", role: "group", "aria-label": t("recording"), "data-testid": "recorder" }, [
        dot,
        time,
        note,
        cancel,
        send,
      ]);
      env.before.before(bar);
      const chunks = [];
      const stopped = new Promise((done) => recorder.addEventListener("stop", done, { once: true }));
      const r = { recorder, stream, chunks, stopped, bar, started: Date.now(), ms: 0, timer: 0 };
      rec = r;
      recorder.addEventListener("dataavailable", (event) => {
        if (event.data && event.data.size) chunks.push(event.data);
      });
      recorder.addEventListener("error", () => finish(false, "micMissing"));
      r.timer = setInterval(() => {
        r.ms = Date.now() - r.started;
        time.textContent = duration(r.ms, true);
        if (r.ms < maxS * 1000 - MARGIN_MS) return;
        // The store's limit: the recording ends here; Send or Cancel decide.
        stop(r);
        note.textContent = t("limit");
        dot.hidden = true;
      }, TICK_MS);
      cancel.addEventListener("click", () => finish(false));
      send.addEventListener("click", () => finish(true));
      try {
        recorder.start(1000); // a chunk a second: a long recording is not held in one piece
      } catch {
        finish(false, "micMissing");
        return;
      }
      send.focus();
    }

    function stop(r) {
      clearInterval(r.timer);
      if (r.recorder.state !== "inactive") {
        r.ms = Date.now() - r.started;
        r.recorder.stop();
      }
      for (const track of r.stream.getTracks()) track.stop(); // the browser's mic light goes off
    }

    function finish(keep, failed) {
      const r = rec;
      if (!r) return;
      rec = null;
      stop(r);
      r.bar.remove();
      ui.mic.disabled = false;
      (keep ? ui.input : ui.mic).focus();
      if (failed) problem.textContent = t(failed);
      if (!keep) return;
      r.stopped.then(() => {
        if (!r.chunks.length) return;
        const type = r.recorder.mimeType || r.chunks[0].type || "audio/webm";
        const ext = type.includes("mp4") ? "m4a" : type.includes("ogg") ? "ogg" : "webm";
        env.send(new File(r.chunks, `voice-note.${ext}`, { type }), r.ms);
      });
    }

    return { record };
  };
})();
