"""Queries on trigger rules, their fires, and the visitor events rules are judged on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import trigger_fires, triggers, visitor_events, visitors


def insert_trigger(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(triggers).values(**values).returning(triggers.c.id))
    return int(result.scalar_one())


def find_trigger(conn: Connection, store_id: int, trigger_id: int) -> Row[Any] | None:
    query = select(triggers).where(triggers.c.id == trigger_id, triggers.c.store_id == store_id)
    return conn.execute(query).first()


def list_triggers(conn: Connection, store_id: int, *, enabled_only: bool = False) -> list[Row[Any]]:
    """Highest priority first, then oldest: the order rules are tried in."""
    query = (
        select(triggers)
        .where(triggers.c.store_id == store_id)
        .order_by(triggers.c.priority.desc(), triggers.c.id)
    )
    if enabled_only:
        query = query.where(triggers.c.enabled.is_(True))
    return list(conn.execute(query).all())


def update_trigger(conn: Connection, store_id: int, trigger_id: int, **values: Any) -> bool:
    result = conn.execute(
        update(triggers)
        .where(triggers.c.id == trigger_id, triggers.c.store_id == store_id)
        .values(**values)
    )
    return bool(result.rowcount)


def delete_trigger(conn: Connection, store_id: int, trigger_id: int) -> bool:
    result = conn.execute(
        delete(triggers).where(triggers.c.id == trigger_id, triggers.c.store_id == store_id)
    )
    return bool(result.rowcount)


def fire_stats(conn: Connection, store_id: int) -> dict[int, dict[str, int]]:
    """Per rule of the store: fires, of them held out, and visitors contacted."""
    query = (
        select(
            trigger_fires.c.trigger_id,
            func.count().label("fired"),
            func.sum(case((trigger_fires.c.held_out.is_(True), 1), else_=0)).label("held_out"),
            func.sum(case((trigger_fires.c.held_out.is_(False), 1), else_=0)).label("contacted"),
        )
        .where(trigger_fires.c.store_id == store_id)
        .group_by(trigger_fires.c.trigger_id)
    )
    return {
        int(row.trigger_id): {
            "fired": int(row.fired),
            "held_out": int(row.held_out or 0),
            "contacted": int(row.contacted or 0),
        }
        for row in conn.execute(query)
    }


_RECENT_EVENTS = (
    select(visitor_events)
    .where(
        visitor_events.c.visitor_id == bindparam("visitor_id"),
        visitor_events.c.store_id == bindparam("store_id"),
        visitor_events.c.at >= bindparam("since"),
    )
    .order_by(visitor_events.c.id.desc())
    .limit(bindparam("limit"))
)


def list_recent_visitor_events(
    conn: Connection, store_id: int, visitor_id: int, *, since: datetime, limit: int
) -> list[Row[Any]]:
    """The visitor's latest events since `since` (at most `limit`), oldest first."""
    params = {"visitor_id": visitor_id, "store_id": store_id, "since": since, "limit": limit}
    return list(reversed(conn.execute(_RECENT_EVENTS, params).all()))


def list_store_events(
    conn: Connection, store_id: int, *, since: datetime, limit: int
) -> list[Row[Any]]:
    """The store's events since `since`, the latest `limit` of them, oldest first."""
    query = (
        select(visitor_events)
        .where(visitor_events.c.store_id == store_id, visitor_events.c.at >= since)
        .order_by(visitor_events.c.id.desc())
        .limit(limit)
    )
    return list(reversed(conn.execute(query).all()))


def list_visitors(conn: Connection, store_id: int, visitor_ids: list[int]) -> dict[int, Row[Any]]:
    if not visitor_ids:
        return {}
    query = select(visitors).where(visitors.c.store_id == store_id, visitors.c.id.in_(visitor_ids))
    return {int(row.id): row for row in conn.execute(query)}


_VISITOR_FIRES = select(
    trigger_fires.c.trigger_id,
    trigger_fires.c.held_out,
    trigger_fires.c.at,
    trigger_fires.c.closed_at,
).where(
    trigger_fires.c.store_id == bindparam("store_id"),
    trigger_fires.c.visitor_id == bindparam("visitor_id"),
)


def list_visitor_fires(conn: Connection, store_id: int, visitor_id: int) -> list[Row[Any]]:
    return list(conn.execute(_VISITOR_FIRES, {"store_id": store_id, "visitor_id": visitor_id}))


_FIND_FIRE = select(trigger_fires.c.id).where(
    trigger_fires.c.trigger_id == bindparam("trigger_id"),
    trigger_fires.c.visitor_id == bindparam("visitor_id"),
)


def find_fire_id(conn: Connection, trigger_id: int, visitor_id: int) -> int | None:
    row = conn.execute(_FIND_FIRE, {"trigger_id": trigger_id, "visitor_id": visitor_id}).first()
    return None if row is None else int(row.id)


_INSERT_FIRE = insert(trigger_fires).returning(trigger_fires.c.id)


def insert_fire(conn: Connection, **values: Any) -> int:
    return int(conn.execute(_INSERT_FIRE, values).scalar_one())


def update_fire(conn: Connection, fire_id: int, **values: Any) -> None:
    conn.execute(update(trigger_fires).where(trigger_fires.c.id == fire_id).values(**values))


def close_fire(
    conn: Connection, store_id: int, visitor_id: int, fire_id: int, at: datetime
) -> bool:
    """The shopper closed the proactive message of fire `fire_id` (theirs only, once)."""
    result = conn.execute(
        update(trigger_fires)
        .where(
            trigger_fires.c.id == fire_id,
            trigger_fires.c.store_id == store_id,
            trigger_fires.c.visitor_id == visitor_id,
            trigger_fires.c.closed_at.is_(None),
        )
        .values(closed_at=at)
    )
    return bool(result.rowcount)
