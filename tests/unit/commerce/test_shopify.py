"""Shopify's order webhooks, as Shopify documents them, read into the order Portside
keeps: its columns for attribution and analytics, and `data` as the AI agent reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from portside.commerce.shopify import order_from_shopify
from portside.errors import InvalidRequest
from tests.support.webhooks import shopify_payload

RECEIVED = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def test_orders_create_maps_to_a_placed_order() -> None:
    order = order_from_shopify(shopify_payload(visitor=412), "orders/create", received_at=RECEIVED)
    assert order.source == "shopify"
    assert order.number == "#1001"
    assert order.external_id == "5889123467534"
    assert order.status == "placed"
    assert order.placed_at == datetime(2026, 12, 4, 18, 42, 7, tzinfo=timezone(timedelta(hours=1)))
    assert order.total_cents == 19900
    assert order.currency == "EUR"
    assert order.email == "ana.garcia@example.com"
    assert order.customer_id == "7190345678901"
    assert order.visitor_ref == "412"
    assert order.coupons == ("WELCOME-7QX2",)
    assert order.paid_at is None
    assert order.cancelled_at is None


def test_the_agent_reads_the_order_by_number_email_and_postcode() -> None:
    data = order_from_shopify(shopify_payload(), "orders/create", received_at=RECEIVED).data
    assert data["number"] == "#1001"
    assert data["email"] == "ana.garcia@example.com"
    assert data["postcode"] == "28013"
    assert data["status"] == "processing"
    assert data["placed_on"] == "2026-12-04"
    assert data["total"] == "199.00"
    assert data["currency"] == "EUR"
    assert data["ship_to"] == {"name": "Ana García", "city": "Madrid", "country": "ES"}
    assert data["items"][0] == {
        "name": "Silk Charmeuse Slip Dress",
        "variant": "S / Champagne",
        "sku": "SSD-S-CHAMP",
        "quantity": 1,
        "price": "158.00",
    }
    assert [item["price"] for item in data["items"]] == ["158.00", "41.00"]
    assert data["carrier"] is None and data["tracking"] is None


def test_orders_paid_is_paid_when_it_arrives() -> None:
    order = order_from_shopify(shopify_payload("orders/paid"), "orders/paid", received_at=RECEIVED)
    assert order.status == "paid"
    assert order.paid_at == RECEIVED


def test_an_order_paid_at_checkout_is_paid_from_its_creation() -> None:
    payload = shopify_payload("orders/create", financial_status="paid")
    order = order_from_shopify(payload, "orders/create", received_at=RECEIVED)
    assert order.status == "paid"
    assert order.paid_at == datetime(2026, 12, 4, 17, 42, 6, tzinfo=UTC)


def test_orders_cancelled_is_cancelled_at_shopifys_time() -> None:
    order = order_from_shopify(
        shopify_payload("orders/cancelled"), "orders/cancelled", received_at=RECEIVED
    )
    assert order.status == "cancelled"
    assert order.cancelled_at == datetime(2026, 12, 5, 8, 12, 44, tzinfo=UTC)
    assert order.data["status"] == "cancelled"
    assert order.data["cancelled_on"] == "2026-12-05"


def test_a_fulfilled_order_tells_the_agent_its_carrier_and_tracking() -> None:
    payload = shopify_payload(
        "orders/paid",
        fulfillment_status="fulfilled",
        fulfillments=[
            {
                "id": 4912345678901,
                "created_at": "2026-12-06T11:00:00+01:00",
                "status": "success",
                "tracking_company": "DHL Express",
                "tracking_number": "JD014600003828",
                "tracking_url": "https://www.dhl.com/track?id=JD014600003828",
            }
        ],
    )
    data = order_from_shopify(payload, "orders/paid", received_at=RECEIVED).data
    assert data["status"] == "shipped"
    assert (data["carrier"], data["tracking"]) == ("DHL Express", "JD014600003828")
    assert data["shipped_on"] == "2026-12-06"
    assert data["tracking_url"].startswith("https://www.dhl.com/")


def test_an_order_without_attributes_customer_or_codes_still_maps() -> None:
    payload = shopify_payload(
        note_attributes=[],
        customer=None,
        discount_codes=[],
        shipping_address=None,
        email=None,
        contact_email=None,
    )
    order = order_from_shopify(payload, "orders/create", received_at=RECEIVED)
    assert (order.visitor_ref, order.customer_id, order.email, order.coupons) == (
        None,
        None,
        None,
        (),
    )
    assert order.data["postcode"] is None


def test_the_number_falls_back_to_order_number() -> None:
    payload = shopify_payload(name=None)
    assert order_from_shopify(payload, "orders/create", received_at=RECEIVED).number == "#1001"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"total_price": "lots"}, "total_price"),
        ({"total_price": "-3.00"}, "total_price"),
        ({"currency": "euro"}, "currency"),
        ({"created_at": None}, "created_at"),
        ({"created_at": "2026-12-04 18:42"}, "created_at"),
        ({"name": None, "order_number": None}, "name"),
    ],
)
def test_what_cannot_be_read_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        order_from_shopify(shopify_payload(**changes), "orders/create", received_at=RECEIVED)
    assert refused.value.details == [{"field": field, "problem": refused.value.message}]


def test_a_body_that_is_not_an_order_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        order_from_shopify([1, 2], "orders/create", received_at=RECEIVED)
