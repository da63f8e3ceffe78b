// The Coupons view: the store's coupon pools, their codes, generating and importing.
//
// A pool is a set of single-use codes a trigger rule hands out, one per shopper, with
// what a code gives by language, an optional pattern for generated codes, an expiry
// and how many of its codes one visitor may get. Every agent reads the pools;
// supervisors and admins create and change them, generate codes from the pattern and
// import codes from a CSV file (one code a line). Errors the server names by field are
// shown at the field; an import's problems are listed by line. Texts are set as text.

import { h } from "./dom.js";
import { shortTime } from "./format.js";
import { PoolForm, wholeOrText } from "./pool_form.js";

const EDITORS = new Set(["admin", "supervisor"]);
const STATUSES = ["free", "issued", "redeemed"];
const PAGE = 50;
const MAX_FILE_BYTES = 2_000_000;

export class CouponsView {
  #api;
  #canEdit;
  #onError;
  #dialog;
  #list;
  #main;
  #pools = [];
  #current = null; // the pool shown; null for a new one
  #form = null;
  #codes = null; // {status, after, list, more}
  #counts = null; // the shown pool's counts line
  #busy = false;

  /** @param {{api: object, agent: {role: string}, onError: (m: string) => void}} deps */
  constructor({ api, agent, onError }) {
    this.#api = api;
    this.#canEdit = EDITORS.has(agent.role);
    this.#onError = onError;
    const close = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "coupons-close",
      text: "Close",
    });
    close.addEventListener("click", () => this.#dialog.close());
    const newPool = h("button", {
      type: "button",
      "data-testid": "pool-new",
      text: "New pool",
      hidden: !this.#canEdit,
    });
    newPool.addEventListener("click", () => this.#show(null));
    this.#list = h("ul", { class: "engagement-list", "data-testid": "pool-list" });
    this.#main = h("div", { class: "engagement-form", "data-testid": "pool-view", hidden: true });
    this.#dialog = h(
      "dialog",
      {
        class: "engagement",
        "data-testid": "coupons-dialog",
        "aria-labelledby": "coupons-heading",
      },
      h(
        "header",
        { class: "engagement-head" },
        h("h2", { id: "coupons-heading", text: "Coupons" }),
        h("p", { class: "muted", text: "Single-use codes that trigger rules offer to shoppers." }),
        h("span", { class: "topbar-spacer" }),
        close,
      ),
      h(
        "div",
        { class: "engagement-body" },
        h("nav", { class: "engagement-nav", "aria-label": "Coupon pools" }, newPool, this.#list),
        this.#main,
      ),
    );
    document.body.append(this.#dialog);
  }

  destroy() {
    if (this.#dialog.open) this.#dialog.close();
    this.#dialog.remove();
  }

  async open() {
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    try {
      this.#pools = (await this.#api.get("/api/v1/coupon-pools")).coupon_pools ?? [];
    } catch (error) {
      this.#list.replaceChildren(
        h("li", {
          class: "field-error",
          text: `The coupon pools could not be loaded: ${error.message}`,
        }),
      );
      return;
    }
    this.#renderList();
    const again = this.#current && this.#pools.find((pool) => pool.id === this.#current.id);
    if (again) this.#show(again);
    else if (this.#pools.length) this.#show(this.#pools[0]);
    else if (this.#canEdit) this.#show(null);
    else this.#main.hidden = true;
  }

  #renderList() {
    if (!this.#pools.length) {
      this.#list.replaceChildren(h("li", { class: "muted", text: "No coupon pools yet." }));
      return;
    }
    this.#list.replaceChildren(
      ...this.#pools.map((pool) => {
        const button = h(
          "button",
          {
            type: "button",
            class: "engagement-item",
            "data-testid": "pool-open",
            "aria-current": this.#current?.id === pool.id ? "true" : null,
          },
          h("strong", { text: pool.name }),
          h("span", {
            class: "engagement-counts",
            "data-testid": "pool-counts",
            text: countsText(pool.counts),
          }),
        );
        button.addEventListener("click", () => this.#show(pool));
        return h(
          "li",
          { class: "engagement-row", "data-testid": "pool-row", "data-pool-id": pool.id },
          button,
        );
      }),
    );
  }

  #replace(pool) {
    const index = this.#pools.findIndex((p) => p.id === pool.id);
    if (index >= 0) this.#pools[index] = pool;
    else this.#pools.push(pool);
    if (this.#current?.id === pool.id) {
      this.#current = pool;
      if (this.#counts) this.#counts.textContent = countsText(pool.counts);
    }
    this.#renderList();
  }

  /** A pool's form and, once it exists, its codes (a blank form for null). */
  #show(pool) {
    this.#current = pool;
    this.#renderList();
    this.#form = new PoolForm(pool, !this.#canEdit);
    this.#form.node.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
    this.#form.onDelete = () => this.#delete();
    this.#counts = pool
      ? h("p", {
          class: "engagement-counts",
          "data-testid": "pool-view-counts",
          text: countsText(pool.counts),
        })
      : null;
    const parts = [
      h("h3", { "data-testid": "pool-title", text: pool ? pool.name : "New pool" }),
      this.#counts,
      this.#form.node,
    ];
    if (pool) {
      if (this.#canEdit) parts.push(this.#generateSection(pool), this.#importSection(pool));
      parts.push(this.#codesSection());
    }
    this.#main.replaceChildren(...parts.filter(Boolean));
    this.#main.hidden = false;
    if (pool) this.#loadCodes(true);
  }

  async #save() {
    if (this.#busy || !this.#canEdit) return;
    const body = this.#form.read();
    if (!body) return;
    this.#busy = true;
    this.#form.status("Saving…");
    try {
      const saved = this.#current
        ? await this.#api.patch(poolPath(this.#current.id), body)
        : await this.#api.post("/api/v1/coupon-pools", body);
      this.#replace(saved);
      this.#show(saved);
      this.#form.status("Saved.");
    } catch (error) {
      this.#form.status("");
      this.#form.showErrors(error);
    } finally {
      this.#busy = false;
    }
  }

  async #delete() {
    try {
      await this.#api.delete(poolPath(this.#current.id));
    } catch (error) {
      this.#form.showErrors(error);
      return;
    }
    this.#pools = this.#pools.filter((pool) => pool.id !== this.#current.id);
    this.#current = null;
    if (this.#pools.length) this.#show(this.#pools[0]);
    else this.#show(null);
  }

  #generateSection(pool) {
    const count = h("input", {
      id: "pool-generate-count",
      "data-testid": "pool-generate-count",
      inputmode: "numeric",
      class: "short",
      value: "100",
    });
    const button = h("button", {
      type: "button",
      "data-testid": "pool-generate",
      text: "Generate",
    });
    const result = h("p", {
      class: "engagement-status",
      "data-testid": "pool-generate-result",
      role: "status",
    });
    const error = h("p", {
      class: "field-error",
      "data-testid": "pool-generate-error",
      role: "alert",
      hidden: true,
    });
    button.addEventListener("click", async () => {
      if (this.#busy) return;
      error.hidden = true;
      result.textContent = "Generating…";
      this.#busy = true;
      try {
        const answer = await this.#api.post(`${poolPath(pool.id)}/generate`, {
          count: wholeOrText(count.value),
        });
        result.textContent = `${answer.generated} code${answer.generated === 1 ? "" : "s"} generated.`;
        this.#replace(answer.pool);
        await this.#loadCodes(true);
      } catch (failure) {
        result.textContent = "";
        error.textContent = failure.message;
        error.hidden = false;
      } finally {
        this.#busy = false;
      }
    });
    const hint = pool.pattern
      ? `New codes follow the pattern ${pool.pattern}.`
      : "The pool has no pattern: set one above to generate codes, or import them.";
    return h(
      "section",
      { class: "pool-tools" },
      h("h4", { text: "Generate codes" }),
      h("p", { class: "muted small", text: hint }),
      h(
        "div",
        { class: "inline" },
        h("label", { for: "pool-generate-count", text: "How many" }),
        count,
        button,
      ),
      error,
      result,
    );
  }

  #importSection(pool) {
    const file = h("input", {
      type: "file",
      accept: ".csv,.txt,text/csv,text/plain",
      "data-testid": "pool-import-file",
    });
    const button = h("button", { type: "button", "data-testid": "pool-import", text: "Import" });
    const result = h("div", {
      class: "pool-import-result",
      "data-testid": "pool-import-result",
      role: "status",
    });
    button.addEventListener("click", async () => {
      if (this.#busy) return;
      const chosen = file.files?.[0];
      if (!chosen) {
        result.replaceChildren(h("p", { class: "field-error", text: "Choose a CSV file first." }));
        return;
      }
      if (chosen.size > MAX_FILE_BYTES) {
        result.replaceChildren(
          h("p", { class: "field-error", text: "The file is too large (2 MB at most)." }),
        );
        return;
      }
      this.#busy = true;
      result.replaceChildren(h("p", { class: "muted", text: "Importing…" }));
      try {
        const text = await chosen.text();
        const answer = await this.#api.postText(`${poolPath(pool.id)}/import`, text, "text/csv");
        const count = answer.imported;
        result.replaceChildren(
          h("p", {
            "data-testid": "pool-import-summary",
            text: `${count} code${count === 1 ? "" : "s"} imported.`,
          }),
        );
        file.value = "";
        this.#replace(answer.pool);
        await this.#loadCodes(true);
      } catch (error) {
        // A file with wrong lines is refused whole; each wrong line is listed.
        const lines = error.details?.filter((detail) => detail.line !== undefined) ?? [];
        result.replaceChildren(
          h("p", {
            class: "field-error",
            "data-testid": "pool-import-error",
            text: lines.length
              ? "Nothing was imported: fix these lines and import the file again."
              : error.message,
          }),
          ...(lines.length ? [problemList(lines)] : []),
        );
      } finally {
        this.#busy = false;
      }
    });
    return h(
      "section",
      { class: "pool-tools" },
      h("h4", { text: "Import codes" }),
      h("p", {
        class: "muted small",
        text: 'A CSV file with one code a line; a first line "code" is skipped.',
      }),
      h("div", { class: "inline" }, file, button),
      result,
    );
  }

  #codesSection() {
    const status = h(
      "select",
      { id: "pool-codes-status", "data-testid": "pool-codes-status" },
      STATUSES.map((value) => h("option", { value, text: value })),
    );
    const list = h("ol", { class: "code-list", "data-testid": "pool-codes" });
    const more = h("button", {
      type: "button",
      class: "quiet",
      "data-testid": "pool-codes-more",
      text: "More",
      hidden: true,
    });
    this.#codes = { status, list, more, after: null, loading: false };
    status.addEventListener("change", () => this.#loadCodes(true));
    more.addEventListener("click", () => this.#loadCodes(false));
    return h(
      "section",
      { class: "pool-codes" },
      h(
        "div",
        { class: "inline" },
        h("h4", { text: "Codes" }),
        h("label", { for: "pool-codes-status", class: "visually-hidden", text: "Status" }),
        status,
      ),
      list,
      more,
    );
  }

  /** The first page of codes of the chosen status, or the next one. */
  async #loadCodes(first) {
    const codes = this.#codes;
    const pool = this.#current;
    if (!codes || !pool || codes.loading) return;
    codes.loading = true;
    if (first) codes.after = null;
    const query = new URLSearchParams({ status: codes.status.value, limit: String(PAGE) });
    if (codes.after !== null) query.set("after", String(codes.after));
    try {
      const answer = await this.#api.get(`${poolPath(pool.id)}/codes?${query}`);
      if (pool !== this.#current || codes !== this.#codes) return;
      const rows = (answer.codes ?? []).map((code) => codeRow(code));
      if (first) {
        codes.list.replaceChildren(
          ...(rows.length
            ? rows
            : [h("li", { class: "muted", text: `No ${codes.status.value} codes.` })]),
        );
      } else codes.list.append(...rows);
      // `next` is the `after` of the next page; null: this was the last one.
      codes.after = answer.next ?? null;
      codes.more.hidden = codes.after === null;
    } catch (error) {
      this.#onError(`The codes could not be loaded: ${error.message}`);
    } finally {
      codes.loading = false;
    }
  }
}

function codeRow(code) {
  const parts = [h("code", { text: code.code })];
  if (code.issued_at)
    parts.push(h("span", { class: "muted", text: `issued ${shortTime(code.issued_at)}` }));
  if (code.visitor_id)
    parts.push(h("span", { class: "muted", text: `to visitor ${code.visitor_id}` }));
  if (code.redeemed_at)
    parts.push(h("span", { class: "muted", text: `redeemed ${shortTime(code.redeemed_at)}` }));
  return h("li", { "data-testid": "pool-code", "data-status": code.status ?? "" }, ...parts);
}

function problemList(problems) {
  return h(
    "ul",
    { class: "import-problems" },
    problems.map((problem) =>
      h(
        "li",
        { "data-testid": "pool-import-problem", "data-line": problem.line },
        `Line ${problem.line}: ${problem.problem}`,
      ),
    ),
  );
}

export function countsText(counts) {
  const c = counts ?? {};
  return `${c.free ?? 0} free · ${c.issued ?? 0} issued · ${c.redeemed ?? 0} redeemed`;
}

function poolPath(id) {
  return `/api/v1/coupon-pools/${encodeURIComponent(String(id))}`;
}
