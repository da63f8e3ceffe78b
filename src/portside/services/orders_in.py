"""Orders from a store's shop, by webhook (docs/orders.md).

A delivery is taken in this order: the sender's address within its rate limit, the
store by its widget key, the signature with the store's secret (refused and logged,
nothing stored), then the payload read into an IncomingOrder. One transaction then
notes the delivery id (a redelivery changes nothing), creates or updates the order by
(store, number), and credits it (services/attribution.py): the order is never stored
without its attributions, nor the delivery noted without its order.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.commerce.order_json import order_from_json
from portside.commerce.shopify import TOPICS as SHOPIFY_TOPICS
from portside.commerce.shopify import order_from_shopify
from portside.domain.order_intake import IncomingOrder, StoredOrder, merged_columns
from portside.domain.webhooks import check_portside_signature, check_shopify_signature
from portside.errors import (
    Conflict,
    NotFound,
    RateLimited,
    SignatureInvalid,
    field_error,
)
from portside.services.attribution import do_attribute_order
from portside.services.context import Services
from portside.services.orders_settings import OrdersSettings, read_orders
from portside.storage import order_store, store_store

log = logging.getLogger(__name__)

MAX_DELIVERY_ID = 200


@dataclass(frozen=True)
class Delivery:
    """One webhook request as it arrived. `source` is "shopify" or "api"; `topic` the
    Shopify topic (for "api", set from the payload's status)."""

    source: str
    widget_key: str
    delivery_id: str | None
    signature: str | None
    body: bytes
    address: str
    topic: str | None = None


@dataclass(frozen=True)
class Taken:
    """What a delivery did: `duplicate` when an earlier delivery of the same id was
    taken, `ignored` (the topic) when it is not about an order we keep."""

    duplicate: bool = False
    ignored: str | None = None
    order: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.ignored is not None:
            return {"stored": False, "ignored": self.ignored}
        return {"stored": not self.duplicate, "duplicate": self.duplicate, "order": self.order}


async def check_sender(svc: Services, address: str) -> None:
    """Count a webhook from `address` (before its body is read); RateLimited beyond
    the limit, signed or not."""
    retry = await svc.limiters.webhooks.hit(f"address:{address}")
    if retry:
        raise RateLimited(
            f"Too many webhooks from this address; wait {retry:.0f} s and send again.",
            retry_after=retry,
        )


async def do_take_delivery(svc: Services, delivery: Delivery) -> Taken:
    """Check, dedupe and store one order webhook (its sender checked by check_sender);
    raises NotFound, SignatureInvalid (logged) or InvalidRequest with nothing stored."""
    store = await svc.db.read(lambda conn: store_store.find_store_by_key(conn, delivery.widget_key))
    if store is None:
        raise NotFound("There is no store with this widget key: check the webhook's address.")
    settings = read_orders(store.settings)
    now = svc.clock.now()
    try:
        if delivery.source == "shopify":
            check_shopify_signature(delivery.body, settings.shopify_secret, delivery.signature)
        else:
            check_portside_signature(
                delivery.body, settings.webhook_secret, delivery.signature, now
            )
    except SignatureInvalid as refusal:
        log.warning(
            "refused a %s order webhook for store %s (topic %s, from %s): %s",
            delivery.source,
            store.id,
            delivery.topic or "-",
            delivery.address,
            refusal.code,
        )
        raise
    if delivery.source == "shopify" and delivery.topic not in SHOPIFY_TOPICS:
        if not delivery.topic:
            raise field_error("X-Shopify-Topic", "X-Shopify-Topic is missing.")
        return Taken(ignored=delivery.topic)
    delivery_id = _delivery_id(delivery)
    order = _read_order(delivery, now)
    topic = delivery.topic or f"order/{order.status}"
    return await _store(svc, store.id, settings, delivery.source, delivery_id, topic, order)


async def do_take_shop_order(
    svc: Services, store_id: int, payload: dict[str, Any], *, source: str
) -> Taken:
    """An order in our own JSON shape from a shop that runs inside Portside (the demo
    store's checkout): nothing to sign, stored and credited like a webhook's."""
    store = await svc.db.read(lambda conn: store_store.find_store(conn, store_id))
    if store is None:
        raise NotFound("There is no such store.")
    order = order_from_json(payload, received_at=svc.clock.now())
    settings = read_orders(store.settings)
    delivery_id = f"{source}:{order.number}"
    return await _store(
        svc, store_id, settings, source, delivery_id, f"order/{order.status}", order
    )


def _delivery_id(delivery: Delivery) -> str:
    header = "X-Shopify-Webhook-Id" if delivery.source == "shopify" else "X-Portside-Delivery"
    value = (delivery.delivery_id or "").strip()
    if not value or len(value) > MAX_DELIVERY_ID or not value.isprintable():
        raise field_error(
            header,
            f"{header} is required: the delivery's id, 1 to {MAX_DELIVERY_ID} characters, the "
            "same on every retry (a redelivery is recognised by it).",
        )
    return value


def _read_order(delivery: Delivery, now: datetime) -> IncomingOrder:
    try:
        payload = json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError):
        raise field_error("body", "The body is not JSON; nothing was stored.") from None
    if delivery.source == "shopify":
        assert delivery.topic is not None
        return order_from_shopify(payload, delivery.topic, received_at=now)
    return order_from_json(payload, received_at=now)


async def _store(
    svc: Services,
    store_id: int,
    settings: OrdersSettings,
    source: str,
    delivery_id: str,
    topic: str,
    order: IncomingOrder,
) -> Taken:
    def already(conn: Connection) -> bool:
        return order_store.find_delivery(conn, store_id, source, delivery_id)

    def take(conn: Connection) -> Taken:
        now = svc.clock.now()
        order_store.insert_delivery(
            conn, store_id=store_id, source=source, delivery_id=delivery_id, topic=topic, now=now
        )
        row = order_store.find_order_row(conn, store_id, order.number)
        old = None
        if row is not None:
            old = StoredOrder(
                row.id,
                row.status or "placed",
                row.placed_at or order.placed_at,
                row.paid_at,
                row.cancelled_at,
                row.visitor_id,
            )
        values = merged_columns(old, order, now=now)
        if row is None:
            order_id = order_store.insert_order(conn, store_id, values)
        else:
            order_id = int(row.id)
            order_store.update_order(conn, store_id, order_id, values)
        credited = do_attribute_order(
            conn,
            store_id=store_id,
            order_id=order_id,
            order=order,
            placed_at=values["placed_at"],
            known_visitor=old.visitor_id if old else None,
            window_days=settings.attribution_window_days,
            now=now,
        )
        return Taken(
            order={
                "id": order_id,
                "number": order.number,
                "status": values["status"],
                "visitor_id": credited.visitor_id,
                "visitor_found_by": credited.how,
                "attributions": credited.refs,
            }
        )

    # A delivery sent again while the first is being stored, or two deliveries of one
    # new order at once (PostgreSQL): a unique index refuses the second, which rolls
    # back and looks again.
    for _ in range(3):
        if await svc.db.read(already):
            return Taken(duplicate=True)
        try:
            return await svc.db.write(take)
        except IntegrityError:
            continue
    raise Conflict("This order could not be stored just now; deliver it again.")
