// The REST API (docs/api.md) as the console uses it.
//
// The session is the HttpOnly `portside_session` cookie, which the browser sends by
// itself. The CSRF token comes only in the JSON of login and /auth/me; it goes back in
// the X-CSRF-Token header of every request that changes something.

const CHANGES = new Set(["POST", "PATCH", "PUT", "DELETE"]);

/**
 * An error answer: `status` 0 means the server could not be reached at all. `details`
 * lists `{field, problem}` when the server named what was wrong (`invalid_request`).
 */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null, details = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.details = details;
  }
}

export class Api {
  /** The session's CSRF token, set after login or /auth/me. */
  csrfToken = null;
  /** Called when a request finds the session gone (logged out on another device). */
  onSessionEnded = null;

  get(path) {
    return this.#request("GET", path);
  }

  post(path, body) {
    return this.#request("POST", path, body);
  }

  put(path, body) {
    return this.#request("PUT", path, body);
  }

  patch(path, body) {
    return this.#request("PATCH", path, body);
  }

  delete(path) {
    return this.#request("DELETE", path);
  }

  /** A POST whose body is text as it is (a CSV file, say), not JSON. */
  postText(path, text, contentType) {
    return this.#request("POST", path, undefined, { text, contentType });
  }

  async #request(method, path, body, raw = null) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    } else if (raw) {
      headers["Content-Type"] = raw.contentType;
      init.body = raw.text;
    }
    if (CHANGES.has(method) && this.csrfToken) headers["X-CSRF-Token"] = this.csrfToken;

    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "unreachable", "Portside cannot be reached; check your connection.");
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      // An empty or non-JSON body: only the status says anything.
    }
    if (response.ok) return payload;

    const error = payload?.error ?? {};
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    const failure = new ApiError(
      response.status,
      error.code ?? "error",
      error.message ?? `The request failed (HTTP ${response.status}).`,
      retryAfter,
      Array.isArray(error.details) ? error.details : [],
    );
    if (failure.code === "not_authenticated") this.onSessionEnded?.(failure);
    throw failure;
  }
}

/** The path of a conversation, or of one of its sub-resources. */
export function conversationPath(id, rest = "") {
  return `/api/v1/conversations/${encodeURIComponent(String(id))}${rest}`;
}
