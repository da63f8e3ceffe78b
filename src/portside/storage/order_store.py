"""Queries for orders from webhooks: deliveries taken, the orders' rows, the buyer's
history attribution reads, and the attributions themselves. Every one names its store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import (
    conversations,
    coupon_codes,
    events,
    order_attributions,
    orders,
    trigger_fires,
    visitors,
    webhook_deliveries,
)


def insert_delivery(
    conn: Connection, *, store_id: int, source: str, delivery_id: str, topic: str, now: datetime
) -> None:
    """Note a delivery as taken; the unique index refuses one taken before
    (IntegrityError), which rolls the whole delivery back."""
    conn.execute(
        insert(webhook_deliveries).values(
            store_id=store_id, source=source, delivery_id=delivery_id, topic=topic, received_at=now
        )
    )


def find_delivery(conn: Connection, store_id: int, source: str, delivery_id: str) -> bool:
    table = webhook_deliveries
    query = select(table.c.id).where(
        table.c.store_id == store_id,
        table.c.source == source,
        table.c.delivery_id == delivery_id,
    )
    return conn.execute(query).first() is not None


def find_order_row(conn: Connection, store_id: int, number: str) -> Row[Any] | None:
    """The store's order of this number, its row locked until commit (PostgreSQL)."""
    query = (
        select(orders)
        .where(orders.c.store_id == store_id, orders.c.number == number)
        .with_for_update()
    )
    return conn.execute(query).first()


def insert_order(conn: Connection, store_id: int, values: dict[str, Any]) -> int:
    result = conn.execute(insert(orders).values(store_id=store_id, **values).returning(orders.c.id))
    return int(result.scalar_one())


def update_order(conn: Connection, store_id: int, order_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.store_id == store_id)
        .values(**values)
    )


def find_orders_by_numbers(
    conn: Connection, store_id: int, numbers: list[str]
) -> dict[str, dict[str, Any]]:
    """The store's orders of these numbers, by number, as the AI agent reads them: the
    order's `data` with its row's `source` ("demo", "shopify", "api")."""
    if not numbers:
        return {}
    query = select(orders.c.number, orders.c.data, orders.c.source).where(
        orders.c.store_id == store_id, orders.c.number.in_(numbers)
    )
    return {
        str(row.number): {**dict(row.data), "source": row.source} for row in conn.execute(query)
    }


def list_recent_numbers(conn: Connection, store_id: int, limit: int) -> list[str]:
    """Numbers of the store's latest orders (and of those with no time, such as the
    demo's): how the store writes its numbers."""
    query = (
        select(orders.c.number)
        .where(orders.c.store_id == store_id)
        .order_by(orders.c.placed_at.desc().nulls_first())
        .limit(limit)
    )
    return [str(number) for number in conn.execute(query).scalars()]


def visitor_exists(conn: Connection, store_id: int, visitor_id: int) -> bool:
    query = select(visitors.c.id).where(
        visitors.c.id == visitor_id, visitors.c.store_id == store_id
    )
    return conn.execute(query).first() is not None


def find_visitor_by_customer(conn: Connection, store_id: int, customer_id: str) -> int | None:
    """The visitor last seen of those identified as this customer of the store."""
    query = (
        select(visitors.c.id)
        .where(visitors.c.store_id == store_id, visitors.c.customer_id == customer_id)
        .order_by(visitors.c.last_seen_at.desc(), visitors.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar()


def find_visitor_by_email(conn: Connection, store_id: int, email: str) -> int | None:
    """The visitor last seen of those who gave this email (in any case)."""
    query = (
        select(visitors.c.id)
        .where(visitors.c.store_id == store_id, func.lower(visitors.c.email) == email.lower())
        .order_by(visitors.c.last_seen_at.desc(), visitors.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar()


def list_coupon_codes(conn: Connection, store_id: int, code_ids: list[int]) -> list[Any]:
    """The store's coupon codes of these ids: to whom, and by which rule, each went."""
    if not code_ids:
        return []
    query = (
        select(coupon_codes.c.id, coupon_codes.c.visitor_id, coupon_codes.c.trigger_id)
        .where(coupon_codes.c.store_id == store_id, coupon_codes.c.id.in_(code_ids))
        .order_by(coupon_codes.c.id)
    )
    return list(conn.execute(query).all())


def list_shopper_messages(
    conn: Connection, store_id: int, visitor_id: int, since: datetime, until: datetime
) -> list[Any]:
    """Per conversation of the visitor, the first message the shopper wrote in it
    between `since` and `until`: (conversation_id, at)."""
    query = (
        select(events.c.conversation_id, func.min(events.c.created_at).label("at"))
        .join(conversations, conversations.c.id == events.c.conversation_id)
        .where(
            conversations.c.store_id == store_id,
            conversations.c.visitor_id == visitor_id,
            events.c.store_id == store_id,
            events.c.type == "message.created",
            events.c.actor_type == "visitor",
            events.c.created_at >= since,
            events.c.created_at <= until,
        )
        .group_by(events.c.conversation_id)
    )
    return list(conn.execute(query).all())


def list_fires(
    conn: Connection, store_id: int, visitor_id: int, since: datetime, until: datetime
) -> list[Row[Any]]:
    """The visitor's trigger fires between `since` and `until`, held out or not."""
    query = (
        select(trigger_fires)
        .where(
            trigger_fires.c.store_id == store_id,
            trigger_fires.c.visitor_id == visitor_id,
            trigger_fires.c.at >= since,
            trigger_fires.c.at <= until,
        )
        .order_by(trigger_fires.c.at, trigger_fires.c.id)
    )
    return list(conn.execute(query).all())


def list_attribution_refs(conn: Connection, store_id: int, order_id: int) -> set[str]:
    query = select(order_attributions.c.ref).where(
        order_attributions.c.store_id == store_id, order_attributions.c.order_id == order_id
    )
    return {str(ref) for ref in conn.execute(query).scalars()}


def insert_attribution(
    conn: Connection, *, store_id: int, order_id: int, now: datetime, **values: Any
) -> None:
    conn.execute(
        insert(order_attributions).values(
            store_id=store_id, order_id=order_id, created_at=now, **values
        )
    )


def list_attributions(conn: Connection, store_id: int, order_id: int) -> list[Row[Any]]:
    query = (
        select(order_attributions)
        .where(order_attributions.c.store_id == store_id, order_attributions.c.order_id == order_id)
        .order_by(order_attributions.c.id)
    )
    return list(conn.execute(query).all())
