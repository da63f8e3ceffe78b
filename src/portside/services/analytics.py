"""The analytics of a store: headline numbers and reports over whole days of its calendar.

A range is `from` and `to`, dates YYYY-MM-DD in the store's time zone, `to` excluded
(from=2026-03-01&to=2026-03-08 is the seven days of 1-7 March), at most MAX_DAYS long.
A report is one of REPORTS, broken down `by` one of the breakdowns it allows; its rows
are flat, with a `label` beside each `group` (an agent's or a rule's name), and the
same columns go out as JSON and as CSV. The definitions are in domain/metrics.py and
domain/sales_metrics.py (docs/analytics.md for users); the SQL in
storage/analytics_store.py.

Any agent of the store reads them; a breakdown by agent (colleagues' ratings and
response times) is for supervisors and admins, as the ratings summary is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from portside.domain import metrics as m
from portside.domain import sales_metrics as s
from portside.errors import Forbidden, NotFound, field_error
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import analytics_store as q
from portside.storage import store_store

MAX_DAYS = 366
# The store's `orders` settings section may set it (services/settings.py).
DEFAULT_ATTRIBUTION_DAYS = 7
MAX_ATTRIBUTION_DAYS = 365
PERSONAL = ("admin", "supervisor")  # who may break numbers down by agent


@dataclass(frozen=True)
class Report:
    breakdowns: tuple[str, ...]  # the first is the default
    columns: tuple[str, ...]


REPORTS: dict[str, Report] = {
    "conversations": Report(("day", "language", "country", "agent"), m.CONVERSATION_COLUMNS),
    "response_times": Report(("day", "language", "country", "agent"), m.RESPONSE_TIME_COLUMNS),
    "csat": Report(("day", "language", "country", "agent"), m.CSAT_COLUMNS),
    "conversion": Report(("day", "language", "country"), s.CONVERSION_COLUMNS),
    "uplift": Report(("rule",), s.UPLIFT_COLUMNS),
    "recovery": Report(("day", "language", "country", "rule"), s.RECOVERY_COLUMNS),
    "revenue": Report(("day", "language", "country", "rule"), s.REVENUE_COLUMNS),
}


def check_range(start: object, end: object) -> tuple[date, date]:
    """`from` and `to` as dates, `to` after `from`, at most MAX_DAYS apart."""
    first = _check_date("from", start)
    last = _check_date("to", end)
    if last <= first:
        raise field_error("to", f"to ({last}) must come after from ({first}); to is excluded.")
    if (last - first).days > MAX_DAYS:
        raise field_error(
            "to", f"A range is at most {MAX_DAYS} days; this one has {(last - first).days}."
        )
    return first, last


def _check_date(field: str, value: object) -> date:
    if value is None or value == "":
        raise field_error(field, f"{field} is needed: a date, YYYY-MM-DD.")
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise field_error(field, f"{field} is a date, YYYY-MM-DD, not {value!r}.") from None


def check_report(agent: AgentIdentity, report: str, by: str | None) -> tuple[Report, str]:
    known = REPORTS.get(report)
    if known is None:
        raise field_error(
            "report", f"There is no report {report!r}; there are {', '.join(REPORTS)}."
        )
    chosen = by or known.breakdowns[0]
    if chosen not in known.breakdowns:
        raise field_error(
            "by",
            f"The {report} report is broken down by {', '.join(known.breakdowns)}, not {by!r}.",
        )
    if chosen == "agent" and agent.role not in PERSONAL:
        raise Forbidden("Only a store's supervisors and admins can see numbers per agent.")
    return known, chosen


async def get_report(
    svc: Services,
    agent: AgentIdentity,
    report: str,
    *,
    start: object,
    end: object,
    by: str | None = None,
) -> dict[str, Any]:
    """One report of the agent's store: `{"report", "by", "from", "to", "timezone",
    "columns", "rows"}`."""
    known, chosen = check_report(agent, report, by)
    first, last = check_range(start, end)

    def read(conn: Connection) -> dict[str, Any]:
        period, window = _period(conn, agent.store_id, first, last)
        rows = BUILDERS[report](_Reader(conn, agent.store_id, period, window), chosen)
        _label(conn, agent.store_id, chosen, rows)
        return {
            "report": report,
            "by": chosen,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": period.zone.key,
            "columns": ["group", "label", *known.columns[1:]],
            "rows": rows,
        }

    return await svc.db.read(read)


async def get_overview(
    svc: Services, agent: AgentIdentity, *, start: object, end: object
) -> dict[str, Any]:
    """The headline numbers of a range: each report's total, and the revenue per
    attribution kind and currency."""
    first, last = check_range(start, end)

    def read(conn: Connection) -> dict[str, Any]:
        period, window = _period(conn, agent.store_id, first, last)
        reader = _Reader(conn, agent.store_id, period, window)
        totals = {
            name: _without_group(BUILDERS[name](reader, "all"))
            for name in ("conversations", "response_times", "csat", "conversion", "recovery")
        }
        uplift = BUILDERS["uplift"](reader, "rule")
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": period.zone.key,
            **totals,
            "revenue": s.revenue_totals(BUILDERS["revenue"](reader, "all")),
            "rules": {
                "fired": len(uplift),
                "with_uplift": sum(row["status"] == "ok" for row in uplift),
            },
            "attribution_window_days": window.days,
        }

    return await svc.db.read(read)


def report_csv(result: Mapping[str, Any]) -> str:
    """A report as CSV: a header row of its columns, one row per group (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = result["columns"]
    writer.writerow(columns)
    for row in result["rows"]:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    # A name starting like a formula must not run as one in a spreadsheet.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _without_group(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in rows[0].items() if k != "group"} if rows else {}


# ---- reading


class _Reader:
    """The records of one store and period, each read once when first needed."""

    def __init__(self, conn: Connection, store_id: int, period: m.Period, window: timedelta):
        self.conn, self.store_id, self.period, self.window = conn, store_id, period, window
        self._cache: dict[str, Any] = {}

    def _once(self, name: str, read: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = read()
        return self._cache[name]

    def _range(self, fn: Callable[..., Any], extra: timedelta = timedelta(0)) -> Any:
        period = self.period
        return fn(self.conn, self.store_id, period.start_at, period.end_at + extra)

    def conversations(self) -> list[m.ConversationRecord]:
        return self._once("c", lambda: self._range(q.list_conversation_records))  # type: ignore[no-any-return]

    def ratings(self) -> list[m.RatingRecord]:
        return self._once("r", lambda: self._range(q.list_rating_records))  # type: ignore[no-any-return]

    def visitors(self) -> list[s.VisitorRecord]:
        return self._once("v", lambda: self._range(q.list_visitor_records))  # type: ignore[no-any-return]

    def orders(self) -> list[s.OrderRecord]:
        # Far enough past the end for the uplift's attribution window.
        return self._once("o", lambda: self._range(q.list_order_records, self.window))  # type: ignore[no-any-return]

    def fires(self) -> list[s.FireRecord]:
        return self._once("f", lambda: self._range(q.list_fire_records))  # type: ignore[no-any-return]

    def checkouts(self) -> list[s.CheckoutRecord]:
        return self._once("k", lambda: self._range(q.list_checkout_records, s.ABANDONED_AFTER))  # type: ignore[no-any-return]

    def attributions(self) -> list[s.AttributionRecord]:
        return self._once("a", lambda: self._range(q.list_attribution_records))  # type: ignore[no-any-return]


Builder = Callable[[_Reader, str], list[dict[str, Any]]]

BUILDERS: dict[str, Builder] = {
    "conversations": lambda r, by: m.conversation_rows(r.conversations(), r.period, by),
    "response_times": lambda r, by: m.response_time_rows(r.conversations(), r.period, by),
    "csat": lambda r, by: m.csat_rows(r.ratings(), r.period, by),
    "conversion": lambda r, by: s.conversion_rows(r.visitors(), r.orders(), r.period, by),
    "uplift": lambda r, _by: s.uplift_rows(r.fires(), r.orders(), r.window, r.period),
    "recovery": lambda r, by: s.recovery_rows(
        s.abandonments(r.checkouts(), r.orders(), r.fires(), r.period), r.period, by
    ),
    "revenue": lambda r, by: s.revenue_rows(r.attributions(), r.period, by),
}


def _period(conn: Connection, store_id: int, first: date, last: date) -> tuple[m.Period, timedelta]:
    store = store_store.find_store(conn, store_id)
    if store is None:
        raise NotFound("This store does not exist.")
    period = m.Period(first, last, ZoneInfo(store.timezone))
    return period, timedelta(days=_attribution_days(store.settings))


def _attribution_days(settings: Mapping[str, Any] | None) -> int:
    """The store's attribution window (`orders.attribution_window_days`), or the
    default when it has none or an unreadable one."""
    section = (settings or {}).get("orders") if isinstance(settings, Mapping) else None
    days = section.get("attribution_window_days") if isinstance(section, Mapping) else None
    if isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_ATTRIBUTION_DAYS:
        return days
    return DEFAULT_ATTRIBUTION_DAYS


def _label(conn: Connection, store_id: int, by: str, rows: list[dict[str, Any]]) -> None:
    """Each row's `label`: the agent's or rule's name, else the group itself."""
    names: dict[int, str] = {}
    if by == "agent":
        names = q.agent_names(conn, store_id)
    elif by == "rule":
        names = q.trigger_names(conn, store_id)
    for row in rows:
        group = row["group"]
        label = group
        if names and group.isdigit():
            fallback = f"{'Agent' if by == 'agent' else 'Rule'} {group} (deleted)"
            label = names.get(int(group), fallback)
        elif by == "rule" and group == m.UNKNOWN:
            label = "No proactive message"
        row["label"] = label
        # `label` second, as in the columns.
        row_items = list(row.items())
        row.clear()
        row.update({"group": group, "label": label})
        row.update({k: v for k, v in row_items if k not in ("group", "label")})
