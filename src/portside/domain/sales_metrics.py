"""What conversations and proactive messages earned, exactly: conversion of visitors who
chatted against those who did not, each trigger rule's uplift against its holdout,
checkout recovery and revenue attributed. Over plain records, like domain/metrics.py
(which has the period and the breakdowns); docs/analytics.md says the same for users.

An order counts when it is not cancelled (its status when the report is read) and was
placed in the period, unless a definition says otherwise. Money is never added across
currencies: every amount is per ISO 4217 currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portside.domain.metrics import ALL, UNKNOWN, Period, Row, check_breakdown, group_by, rate
from portside.domain.stats import newcombe_interval

# A rule's uplift is worth reading once both of its groups have this many visitors.
MIN_GROUP = 30
# A checkout not completed (nor followed by an order) this long after it started is
# abandoned.
ABANDONED_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class OrderRecord:
    visitor_id: int | None
    placed_at: datetime | None
    cancelled: bool


@dataclass(frozen=True)
class VisitorRecord:
    """A visitor seen in the period (a visitor event or a message of theirs in it):
    when first, and their first message in the period (None: they did not write)."""

    visitor_id: int
    first_seen_at: datetime
    first_message_at: datetime | None
    language: str | None
    country: str | None


@dataclass(frozen=True)
class FireRecord:
    """A trigger rule that held for a visitor: contacted, or `held_out` (not contacted)."""

    trigger_id: int
    visitor_id: int
    held_out: bool
    at: datetime


def _orders_by_visitor(orders: Iterable[OrderRecord]) -> dict[int, list[datetime]]:
    """The placing times of each visitor's orders that count (not cancelled), sorted."""
    found: dict[int, list[datetime]] = defaultdict(list)
    for order in orders:
        if not order.cancelled and order.visitor_id is not None and order.placed_at is not None:
            found[order.visitor_id].append(order.placed_at)
    for times in found.values():
        times.sort()
    return found


# ---- conversion

CONVERSION_BREAKDOWNS = ("day", "language", "country", "all")
CONVERSION_COLUMNS = (
    "group",
    "visitors",
    "chatted",
    "chatted_converted",
    "chatted_rate",
    "not_chatted",
    "not_chatted_converted",
    "not_chatted_rate",
)


def conversion_rows(
    visitors: Iterable[VisitorRecord], orders: Iterable[OrderRecord], period: Period, by: str
) -> list[Row]:
    """Visitors seen in the period, split by whether they sent a message in it; of each
    side, the share with an order placed in the period (`orders.visitor_id`), not
    cancelled. By day: under the day the visitor was first seen in the period, so the
    days add up to the total (a visitor converted by an order any day of the period)."""
    check_breakdown("conversion", by, CONVERSION_BREAKDOWNS)
    ordered = _orders_by_visitor(orders)
    chosen = [v for v in visitors if period.contains(v.first_seen_at)]
    keys: dict[str, Callable[[VisitorRecord], str | None]] = {
        "day": lambda v: period.day(v.first_seen_at),
        "language": lambda v: v.language,
        "country": lambda v: v.country,
        "all": lambda _v: ALL,
    }
    rows = []
    for group, items in group_by(chosen, keys[by], period, by).items():
        chatted = [v for v in items if period.contains(v.first_message_at)]
        silent = [v for v in items if not period.contains(v.first_message_at)]

        def converted(group_visitors: list[VisitorRecord]) -> int:
            return sum(
                any(period.contains(at) for at in ordered.get(v.visitor_id, ()))
                for v in group_visitors
            )

        chatted_converted, silent_converted = converted(chatted), converted(silent)
        rows.append(
            {
                "group": group,
                "visitors": len(items),
                "chatted": len(chatted),
                "chatted_converted": chatted_converted,
                "chatted_rate": rate(chatted_converted, len(chatted)),
                "not_chatted": len(silent),
                "not_chatted_converted": silent_converted,
                "not_chatted_rate": rate(silent_converted, len(silent)),
            }
        )
    return rows


# ---- per-rule uplift

UPLIFT_BREAKDOWNS = ("rule",)
UPLIFT_COLUMNS = (
    "group",
    "contacted",
    "contacted_converted",
    "contacted_rate",
    "held_out",
    "held_out_converted",
    "held_out_rate",
    "uplift",
    "ci_low",
    "ci_high",
    "status",
)


def uplift_rows(
    fires: Iterable[FireRecord], orders: Iterable[OrderRecord], window: timedelta, period: Period
) -> list[Row]:
    """Per trigger rule that held for visitors in the period: the conversion of the
    contacted visitors and of the held-out ones, a visitor converted by an order (not
    cancelled) placed after the rule held for them and within the store's attribution
    `window` of it (even after the period's end); the uplift (contacted rate minus
    held-out rate) with Newcombe's hybrid score 95 % interval. `status`: "ok",
    "no_holdout" (nobody held out: nothing to compare with), or "not_enough_data"
    (a group has fewer than MIN_GROUP visitors: the figures are shown, but the
    interval is too wide to act on)."""
    ordered = _orders_by_visitor(orders)
    per_rule: dict[int, list[FireRecord]] = defaultdict(list)
    for fire in fires:
        if period.contains(fire.at):
            per_rule[fire.trigger_id].append(fire)
    rows = []
    for trigger_id in sorted(per_rule):
        counts = {True: [0, 0], False: [0, 0]}  # held_out -> [visitors, converted]
        for fire in per_rule[trigger_id]:
            end = fire.at + window
            won = any(fire.at < at <= end for at in ordered.get(fire.visitor_id, ()))
            counts[fire.held_out][0] += 1
            counts[fire.held_out][1] += won
        (contacted, contacted_won), (held, held_won) = counts[False], counts[True]
        uplift = low = high = None
        if contacted and held:
            uplift, low, high = newcombe_interval(contacted_won, contacted, held_won, held)
        if not held:
            status = "no_holdout"
        elif min(contacted, held) < MIN_GROUP:
            status = "not_enough_data"
        else:
            status = "ok"
        rows.append(
            {
                "group": str(trigger_id),
                "contacted": contacted,
                "contacted_converted": contacted_won,
                "contacted_rate": rate(contacted_won, contacted),
                "held_out": held,
                "held_out_converted": held_won,
                "held_out_rate": rate(held_won, held),
                "uplift": None if uplift is None else round(uplift, 4),
                "ci_low": None if low is None else round(low, 4),
                "ci_high": None if high is None else round(high, 4),
                "status": status,
            }
        )
    return rows


# ---- checkout recovery


@dataclass(frozen=True)
class CheckoutRecord:
    """A `checkout_started` or `checkout_completed` visitor event."""

    visitor_id: int
    type: str
    at: datetime
    language: str | None
    country: str | None


@dataclass(frozen=True)
class Abandonment:
    visitor_id: int
    at: datetime
    recovered: bool
    language: str | None
    country: str | None
    # The first proactive message after it (None: none), and whether an order followed it.
    rule: int | None = None
    recovered_after_message: bool = False


RECOVERY_BREAKDOWNS = ("day", "language", "country", "rule", "all")
RECOVERY_COLUMNS = (
    "group",
    "abandoned",
    "recovered",
    "recovery_rate",
    "contacted",
    "recovered_after_message",
    "recovery_rate_after_message",
)


def abandonments(
    checkouts: Iterable[CheckoutRecord],
    orders: Iterable[OrderRecord],
    fires: Iterable[FireRecord],
    period: Period,
) -> list[Abandonment]:
    """Each visitor's first abandoned checkout in the period: a `checkout_started` in it
    with neither a `checkout_completed` nor an order (not cancelled) in the
    ABANDONED_AFTER that follow. Recovered: the visitor nevertheless ordered later
    (after that half hour) in the period. After a message: the first proactive
    message (a contacted fire) between the checkout and the period's end, and whether
    an order followed that message in the period."""
    ordered = _orders_by_visitor(orders)
    completed: dict[int, list[datetime]] = defaultdict(list)
    started: dict[int, list[CheckoutRecord]] = defaultdict(list)
    for event in checkouts:
        if event.type == "checkout_completed":
            completed[event.visitor_id].append(event.at)
        elif event.type == "checkout_started" and period.contains(event.at):
            started[event.visitor_id].append(event)
    messages: dict[int, list[FireRecord]] = defaultdict(list)
    for fire in fires:
        if not fire.held_out:
            messages[fire.visitor_id].append(fire)
    found = []
    for visitor_id, starts in started.items():
        orders_of = ordered.get(visitor_id, [])
        for start in sorted(starts, key=lambda e: e.at):
            deadline = start.at + ABANDONED_AFTER
            closed = [*completed.get(visitor_id, ()), *orders_of]
            if any(start.at <= at <= deadline for at in closed):
                continue
            later = [at for at in orders_of if deadline < at < period.end_at]
            after = sorted(
                (f for f in messages.get(visitor_id, ()) if start.at <= f.at < period.end_at),
                key=lambda f: f.at,
            )
            message = after[0] if after else None
            found.append(
                Abandonment(
                    visitor_id=visitor_id,
                    at=start.at,
                    recovered=bool(later),
                    language=start.language,
                    country=start.country,
                    rule=None if message is None else message.trigger_id,
                    recovered_after_message=message is not None
                    and any(at > message.at for at in later),
                )
            )
            break
    return found


def recovery_rows(found: Iterable[Abandonment], period: Period, by: str) -> list[Row]:
    """Per group: abandoned checkouts (one per visitor), how many recovered, and of
    those who got a proactive message after abandoning, how many ordered after it. By
    rule: under the rule of that first message, `unknown` for those who got none."""
    check_breakdown("recovery", by, RECOVERY_BREAKDOWNS)
    keys: dict[str, Callable[[Abandonment], str | None]] = {
        "day": lambda a: period.day(a.at),
        "language": lambda a: a.language,
        "country": lambda a: a.country,
        "rule": lambda a: None if a.rule is None else str(a.rule),
        "all": lambda _a: ALL,
    }
    rows = []
    for group, items in group_by(found, keys[by], period, by).items():
        recovered = sum(a.recovered for a in items)
        contacted = sum(a.rule is not None for a in items)
        after = sum(a.recovered_after_message for a in items)
        rows.append(
            {
                "group": group,
                "abandoned": len(items),
                "recovered": recovered,
                "recovery_rate": rate(recovered, len(items)),
                "contacted": contacted,
                "recovered_after_message": after,
                "recovery_rate_after_message": rate(after, contacted),
            }
        )
    return rows


# ---- revenue attributed


@dataclass(frozen=True)
class AttributionRecord:
    """An order credited to a conversation, a proactive message or a coupon (`kind`)."""

    order_id: int
    kind: str
    trigger_id: int | None
    currency: str | None
    total_cents: int | None
    placed_at: datetime | None
    cancelled: bool
    language: str | None
    country: str | None


REVENUE_BREAKDOWNS = ("day", "language", "country", "rule", "all")
REVENUE_COLUMNS = ("group", "kind", "currency", "orders", "amount_cents", "amount")
KINDS = ("any", "conversation", "trigger", "coupon")


def revenue_rows(attributions: Iterable[AttributionRecord], period: Period, by: str) -> list[Row]:
    """Per group, attribution kind and currency: the orders credited (placed in the
    period, not cancelled) and their total. An order credited to a conversation and to
    a coupon counts under both kinds; kind `any` counts each order once. By rule: the
    orders credited to each rule's proactive messages (kind `trigger` only)."""
    check_breakdown("revenue", by, REVENUE_BREAKDOWNS)
    chosen = [a for a in attributions if not a.cancelled and period.contains(a.placed_at)]
    if by == "rule":
        chosen = [a for a in chosen if a.kind == "trigger" and a.trigger_id is not None]
    keys: dict[str, Callable[[AttributionRecord], str | None]] = {
        "day": lambda a: period.day(a.placed_at) if a.placed_at else None,
        "language": lambda a: a.language,
        "country": lambda a: a.country,
        "rule": lambda a: str(a.trigger_id),
        "all": lambda _a: ALL,
    }
    totals: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    for group, items in group_by(chosen, keys[by], period, by).items():
        for a in items:
            currency = a.currency.upper() if a.currency else UNKNOWN
            for kind in (a.kind,) if by == "rule" else (a.kind, "any"):
                totals[(group, kind, currency)][a.order_id] = a.total_cents or 0
    order = {kind: i for i, kind in enumerate(KINDS)}
    rows = []
    for (group, kind, currency), per_order in sorted(
        totals.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9), kv[0][2])
    ):
        cents = sum(per_order.values())
        rows.append(
            {
                "group": group,
                "kind": kind,
                "currency": currency,
                "orders": len(per_order),
                "amount_cents": cents,
                "amount": format_cents(cents),
            }
        )
    return rows


def format_cents(cents: int) -> str:
    """12345 -> "123.45" (the amount in the currency's units, two decimals)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def revenue_totals(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """The `all` rows without their group: the overview's revenue lines."""
    return [{k: v for k, v in row.items() if k != "group"} for row in rows]
