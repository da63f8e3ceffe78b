"""Portside's own order JSON: the documented shape is read, anything else refused by name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from portside.commerce.order_json import order_from_json
from portside.errors import InvalidRequest
from tests.support.webhooks import generic_order

RECEIVED = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def test_the_documented_order_is_read() -> None:
    order = order_from_json(
        generic_order(visitor_id="77", coupons=["SPRING-10"]), received_at=RECEIVED
    )
    assert order.source == "api"
    assert (order.number, order.status, order.total_cents, order.currency) == (
        "A-1001",
        "placed",
        8650,
        "EUR",
    )
    assert (order.external_id, order.email, order.customer_id, order.visitor_ref) == (
        "ord_8812",
        "lucas.silva@example.com",
        "c-42",
        "77",
    )
    assert order.coupons == ("SPRING-10",)
    assert order.data["postcode"] == "1100-148"
    assert order.data["status"] == "processing"
    assert order.data["items"][0]["price"] == "49.00"


def test_a_paid_order_without_paid_at_is_paid_when_received() -> None:
    order = order_from_json(generic_order(status="paid"), received_at=RECEIVED)
    assert order.paid_at == RECEIVED
    cancelled = order_from_json(generic_order(status="cancelled"), received_at=RECEIVED)
    assert cancelled.cancelled_at == RECEIVED
    assert cancelled.data["status"] == "cancelled"


def test_shipping_details_reach_the_agent() -> None:
    shipping = {
        "status": "in_transit",
        "carrier": "CTT",
        "tracking": "RR123456785PT",
        "expected_on": "2026-12-10",
    }
    data = order_from_json(generic_order(shipping=shipping), received_at=RECEIVED).data
    assert (data["status"], data["carrier"], data["expected_on"]) == (
        "in_transit",
        "CTT",
        "2026-12-10",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "shipped"}, "status"),
        ({"total": None}, "total"),
        ({"currency": "€"}, "currency"),
        ({"placed_at": "2026-12-04T17:42:07"}, "placed_at"),
        ({"number": ""}, "number"),
        ({"coupons": "SPRING-10"}, "coupons"),
        ({"coupons": [{"code": "X"}]}, "coupons"),
        ({"items": [{"name": "x", "quantity": 0}]}, "items.0.quantity"),
        ({"shipping": {"status": "lost"}}, "shipping.status"),
        ({"shipping": {"expected_on": "soon"}}, "shipping.expected_on"),
        ({"email": 42.5}, "email"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_wrong_field_is_refused_by_name(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        order_from_json(generic_order(**changes), received_at=RECEIVED)
    assert isinstance(refused.value.details, list)
    assert refused.value.details[0]["field"] == field
