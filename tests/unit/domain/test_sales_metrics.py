"""Conversion, per-rule uplift, checkout recovery and revenue attributed, on constructed
histories: cancelled orders, two currencies, a rule without holdout, tiny samples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portside.domain.metrics import Period
from portside.domain.sales_metrics import (
    MIN_GROUP,
    AttributionRecord,
    CheckoutRecord,
    FireRecord,
    OrderRecord,
    VisitorRecord,
    abandonments,
    conversion_rows,
    format_cents,
    recovery_rows,
    revenue_rows,
    uplift_rows,
)

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 8), ZoneInfo("UTC"))
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def visitor(vid: int, chatted: bool, *, at: datetime = T0, language: str = "es") -> VisitorRecord:
    return VisitorRecord(vid, at, at + minutes(1) if chatted else None, language, "ES")


def order(vid: int | None, at: datetime, *, cancelled: bool = False) -> OrderRecord:
    return OrderRecord(vid, at, cancelled)


def test_conversion_of_visitors_who_chatted_against_those_who_did_not() -> None:
    visitors = [visitor(1, True), visitor(2, True), visitor(3, False), visitor(4, False)]
    orders = [
        order(1, T0 + minutes(30)),
        order(3, T0 + minutes(5), cancelled=True),  # cancelled: not a conversion
        order(4, PERIOD.end_at + minutes(1)),  # after the period
        order(None, T0),  # nobody's
    ]
    [row] = conversion_rows(visitors, orders, PERIOD, "all")
    assert row == {
        "group": "all",
        "visitors": 4,
        "chatted": 2,
        "chatted_converted": 1,
        "chatted_rate": 0.5,
        "not_chatted": 2,
        "not_chatted_converted": 0,
        "not_chatted_rate": 0.0,
    }


def test_a_message_outside_the_period_is_not_chatting_in_it() -> None:
    early = VisitorRecord(1, T0, PERIOD.start_at - minutes(1), "en", "US")
    [row] = conversion_rows([early], [], PERIOD, "all")
    assert (row["chatted"], row["not_chatted"], row["chatted_rate"]) == (0, 1, None)


def test_conversion_days_add_up_to_the_total() -> None:
    visitors = [visitor(1, True), visitor(2, False, at=T0 + timedelta(days=2))]
    rows = conversion_rows(visitors, [order(2, T0 + timedelta(days=3))], PERIOD, "day")
    assert len(rows) == 7
    assert sum(r["visitors"] for r in rows) == 2
    third = next(r for r in rows if r["group"] == "2026-03-04")
    assert (third["not_chatted"], third["not_chatted_converted"]) == (1, 1)


def fires(trigger: int, held_out: bool, count: int, start_id: int) -> list[FireRecord]:
    return [FireRecord(trigger, start_id + i, held_out, T0) for i in range(count)]


def test_uplift_compares_contacted_with_held_out_within_the_window() -> None:
    contacted = fires(1, False, 70, 0)
    held = fires(1, True, 80, 1000)
    orders = [order(i, T0 + timedelta(days=1)) for i in range(56)]
    orders += [order(1000 + i, T0 + timedelta(days=2)) for i in range(48)]
    # Outside the window, before the fire, or cancelled: none of these convert.
    orders += [
        order(1070, T0 + WEEK + minutes(1)),
        order(1071, T0 - minutes(1)),
        order(1072, T0 + minutes(1), cancelled=True),
    ]
    [row] = uplift_rows([*contacted, *held], orders, WEEK, PERIOD)
    assert row["group"] == "1"
    assert (row["contacted"], row["contacted_converted"], row["contacted_rate"]) == (70, 56, 0.8)
    assert (row["held_out"], row["held_out_converted"], row["held_out_rate"]) == (80, 48, 0.6)
    # Newcombe's example: 0.2 with 0.0524 to 0.3339.
    assert (row["uplift"], row["ci_low"], row["ci_high"]) == (0.2, 0.0524, 0.3339)
    assert row["status"] == "ok"


def test_an_order_just_inside_the_window_still_counts() -> None:
    [row] = uplift_rows(
        [FireRecord(1, 1, False, T0), FireRecord(1, 2, True, T0)],
        [order(1, T0 + WEEK)],
        WEEK,
        PERIOD,
    )
    assert row["contacted_converted"] == 1


def test_a_rule_without_holdout_has_no_uplift() -> None:
    [row] = uplift_rows(fires(2, False, 50, 0), [order(0, T0 + minutes(5))], WEEK, PERIOD)
    assert row["status"] == "no_holdout"
    assert (row["held_out"], row["held_out_rate"], row["uplift"], row["ci_low"]) == (
        0,
        None,
        None,
        None,
    )
    assert row["contacted_rate"] == 0.02


def test_tiny_samples_say_not_enough_data_but_keep_their_figures() -> None:
    small = [*fires(3, False, MIN_GROUP, 0), *fires(3, True, 3, 100)]
    [row] = uplift_rows(small, [order(0, T0 + minutes(1))], WEEK, PERIOD)
    assert row["status"] == "not_enough_data"
    assert row["ci_low"] is not None
    assert row["ci_low"] < 0 < row["ci_high"]


def test_fires_outside_the_period_are_left_out() -> None:
    assert uplift_rows([FireRecord(1, 1, False, PERIOD.end_at)], [], WEEK, PERIOD) == []


def checkout(vid: int, kind: str, at: datetime) -> CheckoutRecord:
    return CheckoutRecord(vid, f"checkout_{kind}", at, "es", "MX")


def test_checkout_recovery_overall_and_after_a_proactive_message() -> None:
    checkouts = [
        checkout(1, "started", T0),  # abandoned, ordered the next day: recovered
        checkout(2, "started", T0),
        checkout(2, "completed", T0 + minutes(10)),  # completed: not abandoned
        checkout(3, "started", T0),  # abandoned, a message, then an order
        checkout(4, "started", T0),  # abandoned, a message, no order
        checkout(5, "started", T0),  # ordered within the half hour: not abandoned
        checkout(6, "started", T0),  # abandoned; its only order was cancelled
        checkout(6, "started", T0 + minutes(60)),  # a visitor counts once
    ]
    orders = [
        order(1, T0 + timedelta(days=1)),
        order(3, T0 + minutes(50)),
        order(5, T0 + minutes(20)),
        order(6, T0 + timedelta(days=1), cancelled=True),
    ]
    messages = [
        FireRecord(9, 3, False, T0 + minutes(15)),
        FireRecord(9, 4, False, T0 + minutes(15)),
        FireRecord(9, 1, True, T0 + minutes(15)),  # held out: no message
    ]
    found = abandonments(checkouts, orders, messages, PERIOD)
    assert sorted(a.visitor_id for a in found) == [1, 3, 4, 6]
    [row] = recovery_rows(found, PERIOD, "all")
    assert row == {
        "group": "all",
        "abandoned": 4,
        "recovered": 2,
        "recovery_rate": 0.5,
        "contacted": 2,
        "recovered_after_message": 1,
        "recovery_rate_after_message": 0.5,
    }
    per_rule = recovery_rows(found, PERIOD, "rule")
    assert [(r["group"], r["abandoned"]) for r in per_rule] == [("9", 2), ("unknown", 2)]


def attribution(
    order_id: int,
    kind: str,
    cents: int,
    currency: str = "EUR",
    *,
    trigger: int | None = None,
    cancelled: bool = False,
    at: datetime = T0,
) -> AttributionRecord:
    return AttributionRecord(order_id, kind, trigger, currency, cents, at, cancelled, "es", "ES")


def test_revenue_is_per_kind_and_per_currency_never_added_across() -> None:
    records = [
        attribution(1, "conversation", 10_000),
        attribution(1, "coupon", 10_000),  # the same order, credited twice
        attribution(2, "trigger", 2_550, trigger=4),
        attribution(3, "trigger", 500_000, "JPY", trigger=4),
        attribution(4, "conversation", 99_999, cancelled=True),
        attribution(5, "conversation", 1, at=PERIOD.end_at),
    ]
    rows = revenue_rows(records, PERIOD, "all")
    assert [(r["kind"], r["currency"], r["orders"], r["amount"]) for r in rows] == [
        ("any", "EUR", 2, "125.50"),
        ("any", "JPY", 1, "5000.00"),
        ("conversation", "EUR", 1, "100.00"),
        ("trigger", "EUR", 1, "25.50"),
        ("trigger", "JPY", 1, "5000.00"),
        ("coupon", "EUR", 1, "100.00"),
    ]
    per_rule = revenue_rows(records, PERIOD, "rule")
    assert [(r["group"], r["currency"], r["amount_cents"]) for r in per_rule] == [
        ("4", "EUR", 2_550),
        ("4", "JPY", 500_000),
    ]


def test_money_is_written_with_two_decimals() -> None:
    assert format_cents(12_345) == "123.45"
    assert format_cents(5) == "0.05"
    assert format_cents(-150) == "-1.50"


@pytest.mark.parametrize("by", ["agent"])
def test_revenue_has_no_breakdown_by_agent(by: str) -> None:
    with pytest.raises(ValueError, match="not broken down"):
        revenue_rows([], PERIOD, by)
