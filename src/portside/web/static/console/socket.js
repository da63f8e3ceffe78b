// The console's WebSocket (docs/protocol.md): connect, say hello with the resume map,
// answer pings, notice a dead line, and come back with backoff.
//
// The socket only carries frames; what they mean is up to the caller's `onFrame`.
// It counts as "connected" from `welcome` on, not from the TCP open: before the
// server has accepted the hello, nothing may be sent.

const PROTOCOL_VERSION = 1;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const CLOSE_NOT_AUTHENTICATED = 4401;
const DEFAULT_HEARTBEAT_S = 25;
const WATCH_EVERY_MS = 5_000;

export class ConsoleSocket {
  #options;
  #ws = null;
  #welcomed = false;
  #stopped = true;
  #attempt = 0;
  #retryTimer = 0;
  #watchTimer = 0;
  #lastFrameAt = 0;
  #heartbeatMs = DEFAULT_HEARTBEAT_S * 1000;
  #onOnline = () => this.retryNow();

  /**
   * @param {object} options
   * @param {() => object} options.resume  `{conversation_id: last_seq}` for the hello
   * @param {(frame: object) => void} options.onFrame  every frame but ping
   * @param {(state: string, detail: object) => void} options.onState
   *   "connecting", "connected" or "offline" (`detail.retryAt`: when it tries again)
   * @param {() => void} options.onSessionEnded  the server closed with 4401
   */
  constructor(options) {
    this.#options = options;
  }

  get connected() {
    return this.#welcomed;
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    window.addEventListener("online", this.#onOnline);
    this.#watchTimer = setInterval(() => this.#watch(), WATCH_EVERY_MS);
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    window.removeEventListener("online", this.#onOnline);
    clearInterval(this.#watchTimer);
    clearTimeout(this.#retryTimer);
    this.#drop(1000);
  }

  /** Send a frame; false when not connected (the caller decides whether to keep it). */
  send(frame) {
    if (!this.#welcomed || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...frame }));
    return true;
  }

  /** Skip the rest of the backoff wait (the network came back, or the agent asked). */
  retryNow() {
    if (this.#stopped || this.#ws) return;
    clearTimeout(this.#retryTimer);
    this.#connect();
  }

  #connect() {
    this.#options.onState("connecting", {});
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws/console`);
    this.#ws = ws;
    this.#welcomed = false;
    ws.addEventListener("open", () => {
      this.#lastFrameAt = Date.now();
      const hello = { v: PROTOCOL_VERSION, type: "hello", resume: this.#options.resume() };
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener("message", (message) => {
      if (ws === this.#ws) this.#receive(message.data);
    });
    ws.addEventListener("close", (event) => {
      if (ws === this.#ws) this.#closed(event.code);
    });
  }

  #receive(text) {
    this.#lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // the server only sends JSON; anything else is line noise
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "ping") {
      this.#ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: "pong" }));
      return;
    }
    if (frame.type === "welcome") {
      this.#welcomed = true;
      this.#attempt = 0;
      const heartbeat = Number(frame.heartbeat_s);
      if (heartbeat > 0) this.#heartbeatMs = heartbeat * 1000;
      this.#options.onState("connected", {});
    }
    this.#options.onFrame(frame);
  }

  #closed(code) {
    this.#ws = null;
    this.#welcomed = false;
    if (this.#stopped) return;
    if (code === CLOSE_NOT_AUTHENTICATED) {
      this.stop();
      this.#options.onSessionEnded();
      return;
    }
    this.#scheduleRetry();
  }

  /** 0.5 s doubling to 15 s, each wait drawn between half and all of it (jitter). */
  #scheduleRetry() {
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.#attempt);
    this.#attempt += 1;
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.#options.onState("offline", { retryAt: Date.now() + delay });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  /**
   * The server pings every heartbeat_s. Silence for over two of them means the line is
   * dead even if the browser has not noticed (a laptop woke from sleep, Wi-Fi changed):
   * drop it and reconnect rather than wait for TCP to give up.
   */
  #watch() {
    if (!this.#ws || !this.#welcomed) return;
    if (Date.now() - this.#lastFrameAt > 2 * this.#heartbeatMs + WATCH_EVERY_MS) {
      this.#drop(4000);
      this.#scheduleRetry();
    }
  }

  #drop(code) {
    const ws = this.#ws;
    this.#ws = null;
    this.#welcomed = false;
    if (ws && ws.readyState <= WebSocket.OPEN) {
      try {
        ws.close(code);
      } catch {
        // closing a socket that is still connecting can throw in old browsers
      }
    }
  }
}
