"""Portside's own order JSON, for shops that are not Shopify (docs/orders.md#generic-order-json):

    {"number": "A-1001", "status": "placed" | "paid" | "cancelled",
     "placed_at": "2026-12-05T10:15:00Z", "paid_at": null, "cancelled_at": null,
     "total": "199.00", "currency": "EUR",
     "id": "the platform's own id", "email": "ana@example.com", "customer_id": "c-42",
     "visitor_id": "123", "coupons": ["WELCOME-7QX2"],
     "items": [{"name", "variant", "sku", "quantity", "price"}],
     "ship_to": {"name", "city", "country", "postcode"},
     "shipping": {"status", "carrier", "tracking", "tracking_url", "shipped_on",
                  "expected_on", "delivered_on"}}

Only number, status, placed_at, total and currency are required. Unlike a Shopify
payload, which is whatever Shopify sends, this shape is ours: a field of the wrong kind
is refused with its name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portside.commerce.orders import STATUSES as SHIPPING_STATUSES
from portside.domain.order_intake import (
    STATUSES,
    IncomingOrder,
    cents,
    coupon_codes,
    currency,
    money_text,
    optional_text,
    order_number,
    timestamp,
)
from portside.errors import InvalidRequest, field_error

FIELDS = (
    "number",
    "status",
    "placed_at",
    "paid_at",
    "cancelled_at",
    "total",
    "currency",
    "id",
    "email",
    "customer_id",
    "visitor_id",
    "coupons",
    "items",
    "ship_to",
    "shipping",
)
MAX_ITEMS = 250


def order_from_json(payload: object, *, received_at: datetime) -> IncomingOrder:
    """The order of a generic webhook; InvalidRequest names the field that is wrong."""
    if not isinstance(payload, dict):
        raise field_error("body", "The body is the order, a JSON object (docs/orders.md).")
    unknown = sorted(str(key) for key in payload if key not in FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Unknown order fields: {', '.join(unknown)}. The known ones are {', '.join(FIELDS)}.",
            details=[{"field": key, "problem": "unknown field"} for key in unknown],
        )
    status = payload.get("status")
    if status not in STATUSES:
        raise field_error("status", f"status is one of {', '.join(STATUSES)}, not {status!r}.")
    number = order_number(payload.get("number"))
    placed_at = timestamp(payload.get("placed_at"), "placed_at", required=True)
    assert placed_at is not None
    paid_at = timestamp(payload.get("paid_at"), "paid_at")
    cancelled_at = timestamp(payload.get("cancelled_at"), "cancelled_at")
    if status == "paid" and paid_at is None:
        paid_at = received_at
    if status == "cancelled" and cancelled_at is None:
        cancelled_at = received_at
    total = cents(payload.get("total"), "total")
    money = currency(payload.get("currency"))
    email = _text(payload, "email", 320)
    coupons = payload.get("coupons", [])
    if not isinstance(coupons, list) or not all(
        isinstance(c, str) and c.strip() and len(c.strip()) <= 64 for c in coupons
    ):
        raise field_error("coupons", "coupons is a list of codes, each 1 to 64 characters.")
    ship_to = _object(payload, "ship_to")
    shipping = _object(payload, "shipping")
    said = shipping.get("status") or ("cancelled" if status == "cancelled" else "processing")
    if said not in SHIPPING_STATUSES:
        raise field_error(
            "shipping.status",
            f"shipping.status is one of {', '.join(SHIPPING_STATUSES)}, not {said!r}.",
        )
    if status == "cancelled":
        said = "cancelled"
    data: dict[str, Any] = {
        "number": number,
        "email": email,
        "postcode": optional_text(ship_to.get("postcode"), 32),
        "status": said,
        "carrier": optional_text(shipping.get("carrier"), 100),
        "tracking": optional_text(shipping.get("tracking"), 100),
        "placed_on": placed_at.date().isoformat(),
        **{key: _day(shipping, key) for key in ("shipped_on", "expected_on", "delivered_on")},
        "items": _items(payload.get("items", [])),
        "total": money_text(total),
        "currency": money,
        "ship_to": {
            "name": optional_text(ship_to.get("name"), 200),
            "city": optional_text(ship_to.get("city"), 200),
            "country": optional_text(ship_to.get("country"), 2),
        },
        "source": "api",
    }
    url = optional_text(shipping.get("tracking_url"), 500)
    if url and url.startswith(("https://", "http://")):
        data["tracking_url"] = url
    return IncomingOrder(
        source="api",
        number=number,
        status=status,
        placed_at=placed_at,
        total_cents=total,
        currency=money,
        data=data,
        external_id=_text(payload, "id", 64),
        email=email.lower() if email else None,
        customer_id=_text(payload, "customer_id", 200),
        visitor_ref=_text(payload, "visitor_id", 64),
        coupons=coupon_codes(coupons),
        paid_at=paid_at,
        cancelled_at=cancelled_at,
    )


def _text(payload: dict[str, Any], field: str, limit: int) -> str | None:
    value = payload.get(field)
    if value is None or value == "":
        return None
    text = optional_text(value, limit + 1)
    if text is None or len(text) > limit:
        raise field_error(field, f"{field} is text of at most {limit} characters on one line.")
    return text


def _object(payload: dict[str, Any], field: str) -> dict[str, Any]:
    value = payload.get(field) or {}
    if not isinstance(value, dict):
        raise field_error(field, f"{field} is a JSON object.")
    return value


def _day(shipping: dict[str, Any], key: str) -> str | None:
    value = shipping.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise field_error(f"shipping.{key}", f"shipping.{key} is a date like 2026-12-24.")
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise field_error(f"shipping.{key}", f"shipping.{key} is a date like 2026-12-24.") from None


def _items(lines: object) -> list[dict[str, Any]]:
    if not isinstance(lines, list) or len(lines) > MAX_ITEMS:
        raise field_error("items", f"items is a list of at most {MAX_ITEMS} order lines.")
    items = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise field_error(f"items.{index}", f"items.{index} is an object.")
        quantity = line.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise field_error(f"items.{index}.quantity", "quantity is a whole number, 1 or more.")
        items.append(
            {
                "name": optional_text(line.get("name"), 300),
                "variant": optional_text(line.get("variant"), 200),
                "sku": optional_text(line.get("sku"), 100),
                "quantity": quantity,
                "price": money_text(cents(line.get("price", "0"), f"items.{index}.price")),
            }
        )
    return items
