"""Order webhooks as shops send them: Shopify's documented payloads (tests/data/shopify)
signed as Shopify signs them, and Portside's own signed JSON."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from portside.domain.webhooks import portside_signature, shopify_signature

DATA = Path(__file__).resolve().parent.parent / "data" / "shopify"
TOPIC_FILES = {
    "orders/create": "orders_create.json",
    "orders/paid": "orders_paid.json",
    "orders/cancelled": "orders_cancelled.json",
}


def shopify_payload(topic: str = "orders/create", **changes: Any) -> dict[str, Any]:
    """Shopify's order for `topic`, with top-level fields changed; `visitor` sets the
    `portside_visitor` cart attribute (None removes it)."""
    payload: dict[str, Any] = json.loads((DATA / TOPIC_FILES[topic]).read_text())
    if "visitor" in changes:
        visitor = changes.pop("visitor")
        attributes = [a for a in payload["note_attributes"] if a["name"] != "portside_visitor"]
        if visitor is not None:
            attributes.append({"name": "portside_visitor", "value": str(visitor)})
        payload["note_attributes"] = attributes
    payload.update(changes)
    return payload


def shopify_headers(
    body: bytes, secret: str, topic: str, webhook_id: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_signature(body, secret),
        "X-Shopify-Shop-Domain": "lumen-and-pine.myshopify.com",
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-12-04T17:42:09.123456Z",
    }


async def post_shopify(
    http: httpx.AsyncClient,
    widget_key: str,
    payload: dict[str, Any],
    secret: str,
    topic: str = "orders/create",
    webhook_id: str | None = None,
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post(
        f"/api/v1/webhooks/shopify/{widget_key}",
        content=body,
        headers=shopify_headers(body, secret, topic, webhook_id),
    )


def generic_order(number: str = "A-1001", **changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "number": number,
        "status": "placed",
        "placed_at": "2026-12-04T17:42:07Z",
        "total": "86.50",
        "currency": "EUR",
        "id": "ord_8812",
        "email": "lucas.silva@example.com",
        "customer_id": "c-42",
        "items": [
            {
                "name": "Washed Linen Shirt",
                "variant": "M / Sand",
                "quantity": 1,
                "price": "49.00",
                "sku": "WLS-M-SAND",
            }
        ],
        "ship_to": {
            "name": "Lucas Silva",
            "city": "Lisboa",
            "country": "PT",
            "postcode": "1100-148",
        },
    }
    order.update(changes)
    return order


async def post_generic(
    http: httpx.AsyncClient,
    widget_key: str,
    order: dict[str, Any],
    secret: str,
    *,
    delivery: str | None = None,
    at: int | None = None,
) -> httpx.Response:
    body = json.dumps(order).encode()
    signed_at = int(time.time()) if at is None else at
    return await http.post(
        f"/api/v1/webhooks/orders/{widget_key}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Portside-Signature": portside_signature(body, secret, signed_at),
            "X-Portside-Delivery": delivery or str(uuid.uuid4()),
        },
    )
