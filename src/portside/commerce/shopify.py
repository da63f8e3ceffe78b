"""Shopify's order webhooks (`orders/create`, `orders/paid`, `orders/cancelled`) read
into an IncomingOrder, the order as Portside keeps it (docs/orders.md).

The payload is Shopify's Order resource: `id`, `name` ("#1001", the number the shopper
sees), `order_number`, `email`, `customer`, `total_price` ("199.00"), `currency`,
`created_at`, `processed_at`, `cancelled_at`, `financial_status`, `fulfillment_status`,
`discount_codes`, `note_attributes` (the cart attributes the checkout carried, where
the widget's visitor id arrives as `portside_visitor`), `line_items`,
`shipping_address` and `fulfillments`. What is not there, or not usable, is left out
rather than refused: only the number, the creation time, the total and the currency
are required.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portside.domain.order_intake import (
    IncomingOrder,
    cents,
    coupon_codes,
    currency,
    money_text,
    optional_text,
    order_number,
    timestamp,
)
from portside.errors import field_error

TOPICS = ("orders/create", "orders/paid", "orders/cancelled")
# Shopify's financial statuses of an order that was paid (a refund came after).
PAID = frozenset({"paid", "partially_refunded", "refunded"})
VISITOR_ATTRIBUTE = "portside_visitor"
MAX_ITEMS = 250


def order_from_shopify(payload: object, topic: str, *, received_at: datetime) -> IncomingOrder:
    """The order a Shopify webhook of `topic` describes; InvalidRequest names the field
    that cannot be read."""
    if not isinstance(payload, dict):
        raise field_error("body", "A Shopify order webhook's body is the order, a JSON object.")
    number = payload.get("name") or (
        f"#{payload['order_number']}" if payload.get("order_number") else None
    )
    number = order_number(number, "name")
    placed_at = timestamp(payload.get("created_at"), "created_at", required=True)
    assert placed_at is not None
    cancelled_at = timestamp(payload.get("cancelled_at"), "cancelled_at")
    processed_at = timestamp(payload.get("processed_at"), "processed_at")
    financial = str(payload.get("financial_status") or "")
    paid_at: datetime | None = None
    if topic == "orders/paid":
        paid_at = received_at
    elif financial in PAID:
        paid_at = processed_at or placed_at
    if topic == "orders/cancelled" and cancelled_at is None:
        cancelled_at = received_at
    status = "cancelled" if cancelled_at else "paid" if paid_at else "placed"
    total = cents(payload.get("total_price"), "total_price")
    money = currency(payload.get("currency"))
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    assert isinstance(customer, dict)
    email = optional_text(
        payload.get("email") or payload.get("contact_email") or customer.get("email"), 320
    )
    return IncomingOrder(
        source="shopify",
        number=number,
        status=status,
        placed_at=placed_at,
        total_cents=total,
        currency=money,
        data=_agent_view(payload, number, email, placed_at, cancelled_at, total, money),
        external_id=optional_text(payload.get("id"), 64),
        email=email.lower() if email else None,
        customer_id=optional_text(customer.get("id"), 200),
        visitor_ref=_attribute(payload.get("note_attributes"), VISITOR_ATTRIBUTE),
        coupons=coupon_codes(
            [d.get("code") for d in payload.get("discount_codes") or () if isinstance(d, dict)]
        ),
        paid_at=paid_at,
        cancelled_at=cancelled_at,
    )


def _agent_view(
    payload: dict[str, Any],
    number: str,
    email: str | None,
    placed_at: datetime,
    cancelled_at: datetime | None,
    total: int,
    money: str,
) -> dict[str, Any]:
    """The order as the AI agent reads it (commerce/orders.py)."""
    address = payload.get("shipping_address")
    address = address if isinstance(address, dict) else {}
    fulfillments = [f for f in payload.get("fulfillments") or () if isinstance(f, dict)]
    shipped = fulfillments[-1] if fulfillments else {}
    if cancelled_at is not None:
        said = "cancelled"
    elif payload.get("fulfillment_status") == "fulfilled" or shipped:
        said = "shipped"
    else:
        said = "processing"
    shipped_at = timestamp(shipped.get("created_at"), "fulfillments.created_at")
    data: dict[str, Any] = {
        "number": number,
        "email": email,
        "postcode": optional_text(address.get("zip"), 32),
        "status": said,
        "carrier": optional_text(shipped.get("tracking_company"), 100),
        "tracking": optional_text(shipped.get("tracking_number"), 100),
        "placed_on": placed_at.date().isoformat(),
        "shipped_on": shipped_at.date().isoformat() if shipped_at else None,
        "expected_on": None,
        "delivered_on": None,
        "items": _items(payload.get("line_items")),
        "total": money_text(total),
        "currency": money,
        "ship_to": {
            "name": optional_text(address.get("name"), 200),
            "city": optional_text(address.get("city"), 200),
            "country": optional_text(address.get("country_code"), 2),
        },
        "source": "shopify",
        "payment": optional_text(payload.get("financial_status"), 32),
    }
    url = optional_text(shipped.get("tracking_url"), 500)
    if url and url.startswith(("https://", "http://")):
        data["tracking_url"] = url
    if cancelled_at is not None:
        data["cancelled_on"] = cancelled_at.date().isoformat()
    return data


def _items(lines: object) -> list[dict[str, Any]]:
    items = []
    for line in lines if isinstance(lines, list) else ():
        if not isinstance(line, dict):
            continue
        quantity = line.get("quantity")
        items.append(
            {
                "name": optional_text(line.get("title") or line.get("name"), 300),
                "variant": optional_text(line.get("variant_title"), 200),
                "sku": optional_text(line.get("sku"), 100),
                "quantity": quantity if isinstance(quantity, int) else 1,
                "price": money_text(cents(line.get("price", "0"), "line_items.price")),
            }
        )
        if len(items) >= MAX_ITEMS:
            break
    return items


def _attribute(attributes: object, name: str) -> str | None:
    """The value of the cart attribute `name` (Shopify's note_attributes, a list of
    {name, value}; an object of name -> value is read too)."""
    if isinstance(attributes, dict):
        return optional_text(attributes.get(name), 64)
    for item in attributes if isinstance(attributes, list) else ():
        if isinstance(item, dict) and item.get("name") == name:
            return optional_text(item.get("value"), 64)
    return None
