"""Queries on visitor_events: shopping behaviour per visitor and session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import visitor_events


def insert_event(
    conn: Connection,
    *,
    store_id: int,
    visitor_id: int,
    session_id: str,
    type: str,
    client_id: str,
    url: str | None,
    data: dict[str, Any],
    at: datetime,
) -> int | None:
    """The new event's id, or None if the visitor already has one with this client_id.

    ON CONFLICT DO NOTHING rather than a look first: the same batch can arrive twice at
    once (over the socket and by beacon, to two nodes), and the loser must neither fail
    its transaction nor store a copy.
    """
    values = {
        "store_id": store_id,
        "visitor_id": visitor_id,
        "session_id": session_id,
        "type": type,
        "client_id": client_id,
        "url": url,
        "data": data,
        "at": at,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(visitor_events)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["visitor_id", "client_id"])
        .returning(visitor_events.c.id)
    )
    row = conn.execute(statement).first()
    return None if row is None else int(row[0])


def list_events(
    conn: Connection,
    store_id: int,
    *,
    visitor_id: int | None = None,
    types: tuple[str, ...] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[Row[Any]]:
    """A store's events, newest first (by id), optionally of one visitor, of some types,
    within [since, until), with ids below `before`."""
    query = select(visitor_events).where(visitor_events.c.store_id == store_id)
    if visitor_id is not None:
        query = query.where(visitor_events.c.visitor_id == visitor_id)
    if types:
        query = query.where(visitor_events.c.type.in_(types))
    if since is not None:
        query = query.where(visitor_events.c.at >= since)
    if until is not None:
        query = query.where(visitor_events.c.at < until)
    if before is not None:
        query = query.where(visitor_events.c.id < before)
    query = query.order_by(visitor_events.c.id.desc()).limit(limit)
    return list(conn.execute(query).all())


def delete_events_before(conn: Connection, store_id: int, cutoff: datetime, limit: int) -> int:
    """Delete at most `limit` of a store's events older than `cutoff`; how many went."""
    ids = (
        select(visitor_events.c.id)
        .where(visitor_events.c.store_id == store_id, visitor_events.c.at < cutoff)
        .order_by(visitor_events.c.id)
        .limit(limit)
    )
    chosen = [row[0] for row in conn.execute(ids)]
    if not chosen:
        return 0
    conn.execute(
        delete(visitor_events).where(
            visitor_events.c.store_id == store_id, visitor_events.c.id.in_(chosen)
        )
    )
    return len(chosen)
