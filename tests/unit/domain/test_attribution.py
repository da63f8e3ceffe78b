"""Attribution rules on constructed histories: what is inside the window, what is not,
held-out fires never credited, each thing once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portside.domain.attribution import (
    Fire,
    RedeemedCoupon,
    ShopperMessage,
    attribute,
    choose_visitor,
    visitor_id_from,
)

PLACED = datetime(2026, 12, 4, 17, 42, tzinfo=UTC)


def ago(**delta: float) -> datetime:
    return PLACED - timedelta(**delta)


def test_conversations_the_shopper_wrote_in_within_the_window_are_credited_once() -> None:
    found = attribute(
        placed_at=PLACED,
        window_days=7,
        messages=[
            ShopperMessage(10, ago(days=2)),
            ShopperMessage(10, ago(hours=1)),
            ShopperMessage(11, ago(days=6, hours=23)),
        ],
    )
    assert [(a.kind, a.ref, a.conversation_id) for a in found] == [
        ("conversation", "conversation:11", 11),
        ("conversation", "conversation:10", 10),
    ]


def test_nothing_outside_the_window_or_after_the_order_is_credited() -> None:
    found = attribute(
        placed_at=PLACED,
        window_days=7,
        messages=[
            ShopperMessage(10, ago(days=7, seconds=1)),
            ShopperMessage(12, PLACED + timedelta(minutes=1)),
        ],
        fires=[Fire(5, 2, ago(days=8), held_out=False)],
    )
    assert found == []
    # The same history with a longer window.
    longer = attribute(
        placed_at=PLACED,
        window_days=10,
        messages=[ShopperMessage(10, ago(days=7, seconds=1))],
        fires=[Fire(5, 2, ago(days=8), held_out=False)],
    )
    assert [a.ref for a in longer] == ["conversation:10", "trigger:5"]


def test_the_window_includes_its_edges() -> None:
    found = attribute(
        placed_at=PLACED,
        window_days=1,
        messages=[ShopperMessage(1, ago(days=1)), ShopperMessage(2, PLACED)],
    )
    assert [a.ref for a in found] == ["conversation:1", "conversation:2"]


def test_fires_that_contacted_the_shopper_are_credited_held_out_ones_never() -> None:
    found = attribute(
        placed_at=PLACED,
        window_days=7,
        fires=[
            Fire(7, 3, ago(hours=3), held_out=False, conversation_id=40),
            Fire(8, 4, ago(hours=2), held_out=True),
        ],
    )
    assert len(found) == 1
    credit = found[0]
    assert (credit.kind, credit.ref, credit.trigger_id, credit.fire_id, credit.conversation_id) == (
        "trigger",
        "trigger:7",
        3,
        7,
        40,
    )


def test_a_coupon_used_is_credited_with_the_rule_that_gave_it() -> None:
    found = attribute(
        placed_at=PLACED,
        window_days=7,
        coupons=[RedeemedCoupon(21, trigger_id=3), RedeemedCoupon(22)],
    )
    assert [(a.kind, a.ref, a.coupon_code_id, a.trigger_id) for a in found] == [
        ("coupon", "coupon:21", 21, 3),
        ("coupon", "coupon:22", 22, None),
    ]


def test_the_visitor_rules_go_in_order() -> None:
    assert choose_visitor(("visitor_id", 4), ("customer_id", 5)) == (4, "visitor_id")
    assert choose_visitor(("visitor_id", None), ("customer_id", None), ("email", 6)) == (
        6,
        "email",
    )
    assert choose_visitor(("visitor_id", None), ("coupon", None)) == (None, None)


def test_the_visitor_attribute_is_a_positive_id() -> None:
    assert visitor_id_from("412") == 412
    assert visitor_id_from(" 412 ") == 412
    for bad in (None, "", "0", "-3", "4e2", "abc", "١٢", "9" * 25):
        assert visitor_id_from(bad) is None, bad
