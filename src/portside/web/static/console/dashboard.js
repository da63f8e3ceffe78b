// The Dashboard: the store's numbers over a range of days, as headline cards, charts and
// tables that download as CSV (docs/analytics.md has what each number means).
//
// A range is whole days of the store's calendar: the last 7, 30 or 90 days up to today
// (in the store's time zone), or two dates chosen by hand, both included. The API takes
// `to` excluded, so the day after the last one goes out. The charts are drawn by
// Chart.js, served from /static/vendor/chartjs/ and loaded the first time the view
// opens (no CDN). Every text goes in as text (dom.js `h`), never as markup.

import { byId, h } from "./dom.js";
import { languageName, words } from "./format.js";

const CHART_SCRIPT = "/static/vendor/chartjs/chart.umd.min.js";
const PRESETS = [7, 30, 90];
const COLOURS = { bot: "#7c5cd6", human: "#0f6e6e", accent: "#e0b400", muted: "#9aa4b2" };
const CURRENCY_COLOURS = ["#0f6e6e", "#7c5cd6", "#e0b400", "#b42318", "#2563eb"];
const PERSONAL = new Set(["admin", "supervisor"]);

// The tables: a report, the breakdowns it offers, and the columns shown (all go in the CSV).
const TABLES = [
  { report: "conversations", title: "Conversations", by: ["day", "language", "country", "agent"] },
  { report: "response_times", title: "First response times", by: ["day", "language", "country", "agent"] },
  { report: "csat", title: "CSAT", by: ["day", "language", "country", "agent"] },
  { report: "conversion", title: "Conversion", by: ["day", "language", "country"] },
  { report: "uplift", title: "Per-rule uplift", by: ["rule"] },
  { report: "recovery", title: "Checkout recovery", by: ["day", "language", "country", "rule"] },
  { report: "revenue", title: "Revenue attributed", by: ["day", "language", "country", "rule"] },
];

let chartLibrary = null;

/** Chart.js, loaded once from the server itself. */
function loadCharts() {
  if (window.Chart) return Promise.resolve(window.Chart);
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = h("script", { src: CHART_SCRIPT });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => {
      chartLibrary = null;
      reject(new Error("the chart library could not be loaded"));
    });
    document.head.append(script);
  });
  return chartLibrary;
}

export class Dashboard {
  #api;
  #agent;
  #onError;
  #dialog;
  #button;
  #range = null; // {from, to (excluded), days}
  #timeZone = "UTC";
  #charts = [];
  #body;
  #rangeLabel;
  #fromInput;
  #toInput;
  #loading = 0; // the newest load; answers to older ones are dropped
  #onOpen;

  constructor({ api, agent, onError }) {
    this.#api = api;
    this.#agent = agent;
    this.#onError = onError;
    this.#button = byId("open-dashboard");
    this.#onOpen = () => this.open();
    this.#button.addEventListener("click", this.#onOpen);
    this.#build();
  }

  destroy() {
    this.#button.removeEventListener("click", this.#onOpen);
    this.#destroyCharts();
    if (this.#dialog.open) this.#dialog.close();
    this.#dialog.remove();
  }

  #build() {
    this.#fromInput = h("input", { type: "date", "data-testid": "range-from", "aria-label": "First day" });
    this.#toInput = h("input", { type: "date", "data-testid": "range-to", "aria-label": "Last day" });
    const custom = h(
      "form",
      { class: "dashboard-custom", "data-testid": "range-custom" },
      this.#fromInput,
      h("span", { class: "muted", text: "to" }),
      this.#toInput,
      h("button", { type: "submit", "data-testid": "range-apply", text: "Show" }),
    );
    custom.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#chooseCustom();
    });
    const presets = PRESETS.map((days) => {
      const button = h("button", {
        type: "button",
        class: "quiet",
        "data-testid": `range-${days}`,
        "data-days": days,
        text: `${days} days`,
      });
      button.addEventListener("click", () => this.#choosePreset(days));
      return button;
    });
    const close = h("button", { type: "button", class: "quiet", "data-testid": "dashboard-close", text: "Close" });
    close.addEventListener("click", () => this.#dialog.close());
    this.#rangeLabel = h("p", { class: "muted dashboard-range", "data-testid": "dashboard-range" });
    this.#body = h("div", { class: "dashboard-body", "data-testid": "dashboard-body" });
    this.#dialog = h(
      "dialog",
      { class: "dashboard", "data-testid": "dashboard", "aria-labelledby": "dashboard-heading" },
      h(
        "header",
        { class: "dashboard-head" },
        h("h2", { id: "dashboard-heading", text: "Dashboard" }),
        h("div", { class: "dashboard-presets", role: "group", "aria-label": "Range" }, ...presets),
        custom,
        h("span", { class: "topbar-spacer" }),
        close,
      ),
      this.#rangeLabel,
      this.#body,
    );
    this.#dialog.addEventListener("close", () => this.#destroyCharts());
    document.body.append(this.#dialog);
  }

  async open() {
    if (!this.#dialog.open) this.#dialog.showModal();
    if (!this.#range) {
      try {
        const store = await this.#api.get("/api/v1/store");
        this.#timeZone = store.timezone || "UTC";
      } catch (error) {
        this.#onError(`The store could not be read: ${error.message}`);
      }
      this.#choosePreset(PRESETS[0]);
    } else {
      this.#load();
    }
  }

  #choosePreset(days) {
    const today = todayIn(this.#timeZone);
    this.#setRange(addDays(today, 1 - days), addDays(today, 1));
  }

  #chooseCustom() {
    const first = this.#fromInput.value;
    const last = this.#toInput.value;
    if (!first || !last) {
      this.#onError("Choose the first and the last day of the range.");
      return;
    }
    this.#setRange(first, addDays(last, 1));
  }

  #setRange(from, to) {
    this.#range = { from, to };
    this.#fromInput.value = from;
    this.#toInput.value = addDays(to, -1);
    const chosen = daysBetween(from, to);
    for (const button of this.#dialog.querySelectorAll("[data-days]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.days) === chosen));
    }
    this.#load();
  }

  #query(extra = {}) {
    return new URLSearchParams({ from: this.#range.from, to: this.#range.to, ...extra }).toString();
  }

  async #load() {
    const ticket = ++this.#loading;
    const { from, to } = this.#range;
    this.#rangeLabel.textContent = `${from} to ${addDays(to, -1)} (${this.#timeZone})`;
    this.#body.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
    let overview;
    let reports;
    let Chart;
    try {
      [overview, reports, Chart] = await Promise.all([
        this.#api.get(`/api/v1/analytics/overview?${this.#query()}`),
        Promise.all(
          ["conversations", "response_times", "csat", "revenue", "uplift"].map((report) =>
            this.#api.get(`/api/v1/analytics/${report}?${this.#query()}`),
          ),
        ),
        loadCharts(),
      ]);
    } catch (error) {
      if (ticket !== this.#loading) return;
      this.#body.replaceChildren(
        h("p", { class: "field-error", role: "alert", text: `The numbers could not be loaded: ${error.message}` }),
      );
      return;
    }
    if (ticket !== this.#loading || !this.#dialog.open) return;
    this.#destroyCharts();
    const [conversations, times, csat, revenue, uplift] = reports;
    if (isEmpty(overview)) {
      this.#body.replaceChildren(
        h(
          "div",
          { class: "dashboard-empty", "data-testid": "dashboard-empty" },
          h("strong", { text: "Nothing happened in this range." }),
          h("p", { class: "muted", text: "No shopper wrote, no visitor was seen and no order was credited. Try a longer range." }),
        ),
      );
      return;
    }
    const charts = h("div", { class: "dashboard-charts" });
    const tables = h("div", { class: "dashboard-tables" });
    this.#body.replaceChildren(cards(overview), charts, tables);
    const days = conversations.rows.map((row) => row.group);
    this.#chart(Chart, charts, "conversations", "Conversations and handoffs by day", {
      type: "bar",
      data: {
        labels: days,
        datasets: [
          dataset("Conversations", conversations.rows.map((r) => r.conversations), COLOURS.human),
          dataset("Handed off", conversations.rows.map((r) => r.handed_off), COLOURS.accent),
        ],
      },
    });
    this.#chart(Chart, charts, "response-times", "First response time by day (median, seconds)", {
      type: "line",
      data: {
        labels: days,
        datasets: [
          dataset("AI agent", times.rows.map((r) => r.bot_frt_p50_s), COLOURS.bot),
          dataset("People (from handoff)", times.rows.map((r) => r.human_frt_p50_s), COLOURS.human),
        ],
      },
      options: { spanGaps: true },
    });
    this.#chart(Chart, charts, "csat", "CSAT by day (mean score, 1-5)", {
      type: "line",
      data: {
        labels: days,
        datasets: [
          dataset("AI agent", csat.rows.map((r) => r.bot_mean), COLOURS.bot),
          dataset("People", csat.rows.map((r) => r.human_mean), COLOURS.human),
        ],
      },
      options: { spanGaps: true, scales: { y: { min: 1, max: 5 } } },
    });
    const c = overview.conversion;
    this.#chart(Chart, charts, "conversion", "Conversion: visitors who chatted and who did not (%)", {
      type: "bar",
      data: {
        labels: [`Chatted (${c.chatted})`, `Did not chat (${c.not_chatted})`],
        datasets: [
          dataset("Ordered", [percent(c.chatted_rate), percent(c.not_chatted_rate)], COLOURS.human),
        ],
      },
      options: { scales: { y: { min: 0, suggestedMax: 10 } } },
    });
    const currencies = [...new Set(revenue.rows.filter((r) => r.kind === "any").map((r) => r.currency))];
    this.#chart(Chart, charts, "revenue", "Revenue attributed by day (each currency apart)", {
      type: "bar",
      data: {
        labels: days,
        datasets: currencies.map((currency, i) =>
          dataset(
            currency,
            days.map((day) => {
              const row = revenue.rows.find((r) => r.group === day && r.kind === "any" && r.currency === currency);
              return row ? row.amount_cents / 100 : 0;
            }),
            CURRENCY_COLOURS[i % CURRENCY_COLOURS.length],
          ),
        ),
      },
    });
    this.#uplift(Chart, charts, uplift);
    for (const table of TABLES) tables.append(this.#table(table));
  }

  #uplift(Chart, parent, uplift) {
    const rows = uplift.rows.filter((r) => r.ci_low !== null);
    const labels = rows.map((r) => (r.status === "ok" ? r.label : `${r.label} (not enough data)`));
    this.#chart(Chart, parent, "uplift", "Per-rule uplift against the holdout (points, 95% interval)", {
      type: "bar",
      data: {
        labels,
        datasets: [
          { ...dataset("95% interval", rows.map((r) => [percent(r.ci_low), percent(r.ci_high)]), COLOURS.muted), barPercentage: 0.3 },
          { ...dataset("Uplift", rows.map((r) => percent(r.uplift)), COLOURS.human), type: "line", showLine: false, pointRadius: 5 },
        ],
      },
    }, rows.length ? "" : "No rule with a holdout held in this range.");
  }

  #chart(Chart, parent, name, title, config, emptyText = "") {
    const canvas = h("canvas", { role: "img", "aria-label": title });
    const figure = h(
      "figure",
      { class: "dashboard-chart", "data-chart": name, "data-testid": `chart-${name}` },
      h("figcaption", { text: title }),
      h("div", { class: "dashboard-canvas" }, canvas),
    );
    parent.append(figure);
    if (emptyText) {
      figure.append(h("p", { class: "muted", text: emptyText }));
      return;
    }
    const options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom" } },
      ...config.options,
    };
    this.#charts.push(new Chart(canvas, { ...config, options }));
    figure.dataset.rendered = "true";
  }

  #destroyCharts() {
    for (const chart of this.#charts) chart.destroy();
    this.#charts = [];
  }

  #table({ report, title, by }) {
    const choices = by.filter((b) => b !== "agent" || PERSONAL.has(this.#agent.role));
    const select = h("select", { "data-testid": `by-${report}`, "aria-label": `${title}: broken down by` });
    for (const choice of choices) select.append(h("option", { value: choice, text: `by ${choice}` }));
    const download = h("a", { class: "button-link", "data-testid": `csv-${report}`, download: "", text: "Download CSV" });
    const holder = h("div", { class: "dashboard-table-wrap" });
    const section = h(
      "section",
      { class: "dashboard-table", "data-testid": `table-${report}` },
      h("header", {}, h("h3", { text: title }), select, download),
      holder,
    );
    const show = async () => {
      const query = this.#query({ by: select.value });
      download.href = `/api/v1/analytics/${report}.csv?${query}`;
      try {
        const answer = await this.#api.get(`/api/v1/analytics/${report}?${query}`);
        holder.replaceChildren(renderTable(answer));
      } catch (error) {
        holder.replaceChildren(h("p", { class: "field-error", text: error.message }));
      }
    };
    select.addEventListener("change", show);
    show();
    return section;
  }
}

function renderTable(answer) {
  if (!answer.rows.length) return h("p", { class: "muted", text: "No rows in this range." });
  const columns = answer.columns.filter((c) => c !== "group");
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col", text: words(c) })))),
    h(
      "tbody",
      {},
      ...answer.rows.map((row) =>
        h("tr", {}, ...columns.map((c) => h("td", { text: cell(c, row[c], answer.by) }))),
      ),
    ),
  );
}

function cell(column, value, by) {
  if (value === null || value === undefined) return "–";
  if (column === "label" && by === "language") return `${languageName(value)} (${value})`;
  if (column.endsWith("_rate") || column.endsWith("_share") || ["uplift", "ci_low", "ci_high"].includes(column)) {
    return `${percent(value)}%`;
  }
  if (column.endsWith("_s")) return seconds(value);
  return String(value);
}

function cards(overview) {
  const chats = overview.conversations;
  const times = overview.response_times;
  const csat = overview.csat;
  const conversion = overview.conversion;
  const recovery = overview.recovery;
  const revenue = overview.revenue.filter((r) => r.kind === "any");
  const card = (name, label, value, note = "") =>
    h(
      "div",
      { class: "dashboard-card", "data-testid": `card-${name}` },
      h("span", { class: "muted", text: label }),
      h("strong", { text: value }),
      note ? h("small", { class: "muted", text: note }) : null,
    );
  return h(
    "div",
    { class: "dashboard-cards", "data-testid": "dashboard-cards" },
    card("conversations", "Conversations", String(chats.conversations), `${chats.handed_off} handed off`),
    card("handoff-rate", "Handoff rate", rateText(chats.handoff_rate)),
    card("bot-resolution", "Resolved by the AI agent", rateText(chats.bot_resolution_rate), `${chats.resolved_by_bot}`),
    card("person-resolution", "Resolved by a person", rateText(chats.person_resolution_rate), `${chats.resolved_by_person}`),
    card("frt-bot", "First response, AI agent", seconds(times.bot_frt_p50_s), "median"),
    card("frt-human", "First response, people", seconds(times.human_frt_p50_s), "median, from handoff"),
    card("time-to-handoff", "Time to handoff", seconds(chats.time_to_handoff_p50_s), "median"),
    card("csat-bot", "CSAT, AI agent", score(csat.bot_mean), `${csat.bot_ratings} ratings`),
    card("csat-human", "CSAT, people", score(csat.human_mean), `${csat.human_ratings} ratings`),
    card(
      "conversion",
      "Conversion, chatted / not",
      `${rateText(conversion.chatted_rate)} / ${rateText(conversion.not_chatted_rate)}`,
      `${conversion.visitors} visitors`,
    ),
    card("recovery", "Checkouts recovered", rateText(recovery.recovery_rate), `${recovery.recovered} of ${recovery.abandoned}`),
    card(
      "revenue",
      "Revenue attributed",
      revenue.length ? revenue.map((r) => `${r.amount} ${r.currency}`).join(" · ") : "–",
      revenue.length ? `${revenue.reduce((n, r) => n + r.orders, 0)} orders` : "",
    ),
  );
}

function isEmpty(overview) {
  return (
    !overview.conversations.conversations &&
    !overview.conversion.visitors &&
    !overview.revenue.length &&
    !overview.rules.fired
  );
}

function dataset(label, data, colour) {
  return { label, data, backgroundColor: colour, borderColor: colour };
}

function percent(value) {
  return value === null || value === undefined ? null : Math.round(value * 1000) / 10;
}

function rateText(value) {
  return value === null || value === undefined ? "–" : `${percent(value)}%`;
}

function score(value) {
  return value === null || value === undefined ? "–" : `${value.toFixed(2)} / 5`;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${value.toFixed(1)} s`;
  const minutes = Math.floor(value / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(value % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Today's date (YYYY-MM-DD) in a time zone. */
function todayIn(timeZone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

/** A date (YYYY-MM-DD) `days` later (or earlier). */
function addDays(isoDate, days) {
  const at = new Date(`${isoDate}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function startDashboard({ api, agent, toast }) {
  const dashboard = new Dashboard({ api, agent, onError: (message) => toast.show(message) });
  return { stop: () => dashboard.destroy() };
}
