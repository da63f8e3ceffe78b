"""Deliveries in any order: the status only moves forward, and known times are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portside.domain.order_intake import IncomingOrder, StoredOrder, cents, merged_columns

PLACED = datetime(2026, 12, 4, 17, 42, tzinfo=UTC)
NOW = PLACED + timedelta(hours=1)


def incoming(status: str, **changes: object) -> IncomingOrder:
    values: dict[str, object] = {
        "source": "shopify",
        "number": "#1001",
        "status": status,
        "placed_at": PLACED,
        "total_cents": 19900,
        "currency": "EUR",
        "data": {"number": "#1001", "status": "processing"},
        "coupons": ("WELCOME-7QX2",),
        **changes,
    }
    return IncomingOrder(**values)  # type: ignore[arg-type]


def test_a_first_delivery_is_taken_as_it_is() -> None:
    columns = merged_columns(None, incoming("placed"), now=NOW)
    assert columns["status"] == "placed"
    assert columns["coupon"] == "WELCOME-7QX2"
    assert columns["placed_at"] == PLACED
    assert columns["updated_at"] == NOW


def test_a_late_create_does_not_undo_a_payment_or_a_cancellation() -> None:
    paid_at = PLACED + timedelta(minutes=5)
    paid = StoredOrder(1, "paid", PLACED, paid_at=paid_at)
    columns = merged_columns(paid, incoming("placed"), now=NOW)
    assert (columns["status"], columns["paid_at"]) == ("paid", paid_at)
    cancelled = StoredOrder(1, "cancelled", PLACED, paid_at=paid_at, cancelled_at=NOW)
    columns = merged_columns(cancelled, incoming("placed"), now=NOW + timedelta(hours=1))
    assert (columns["status"], columns["cancelled_at"]) == ("cancelled", NOW)
    assert columns["data"]["status"] == "cancelled"


def test_a_cancellation_keeps_the_time_it_was_paid() -> None:
    paid_at = PLACED + timedelta(minutes=5)
    columns = merged_columns(
        StoredOrder(1, "paid", PLACED, paid_at=paid_at),
        incoming("cancelled", cancelled_at=NOW),
        now=NOW,
    )
    assert (columns["status"], columns["paid_at"], columns["cancelled_at"]) == (
        "cancelled",
        paid_at,
        NOW,
    )
    assert columns["data"]["cancelled_on"] == "2026-12-04"


def test_amounts_are_hundredths_whatever_the_format() -> None:
    assert cents("199.00", "t") == 19900
    assert cents("49.5", "t") == 4950
    assert cents(12, "t") == 1200
    assert cents("1990", "t") == 199000
