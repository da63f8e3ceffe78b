"""Queries behind routing and presence: agents with their load, the queue, leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select, update

from portside.domain.conversations import Status
from portside.storage.tables import agents, conversations, visitors

_LOAD = (
    select(conversations.c.assignee_id, func.count().label("load"))
    .where(conversations.c.status == Status.ASSIGNED.value)
    .group_by(conversations.c.assignee_id)
)


def list_agents_with_load(conn: Connection, store_id: int) -> list[Row[Any]]:
    """Every agent of the store with the number of conversations assigned to them."""
    load = _LOAD.where(conversations.c.store_id == store_id).subquery()
    query = (
        select(agents, func.coalesce(load.c.load, 0).label("load"))
        .outerjoin(load, load.c.assignee_id == agents.c.id)
        .where(agents.c.store_id == store_id)
        .order_by(agents.c.id)
    )
    return list(conn.execute(query).all())


def lock_agent_load(conn: Connection, agent_id: int) -> int:
    """Lock the agent's row (PostgreSQL; SQLite has one writer) and count their load
    again, so that two transactions cannot both give them their last free place."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(agents.c.id).where(agents.c.id == agent_id).with_for_update())
    query = select(func.count()).where(
        conversations.c.assignee_id == agent_id,
        conversations.c.status == Status.ASSIGNED.value,
    )
    return int(conn.execute(query).scalar_one())


def list_queue(conn: Connection, store_id: int, limit: int = 500) -> list[Any]:
    """The store's queued conversations, oldest first (the caller orders by priority)."""
    query = (
        select(
            conversations.c.id,
            conversations.c.visitor_id,
            conversations.c.language,
            conversations.c.team_id,
            conversations.c.priority,
            conversations.c.queued_at,
            conversations.c.passed_by,
            conversations.c.updated_at,
            visitors.c.language.label("visitor_language"),
        )
        .join(visitors, visitors.c.id == conversations.c.visitor_id)
        .where(
            conversations.c.store_id == store_id,
            conversations.c.status == Status.QUEUED.value,
        )
        .order_by(conversations.c.queued_at, conversations.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).all())


def list_stores_with_queue(conn: Connection) -> list[int]:
    query = (
        select(conversations.c.store_id)
        .where(conversations.c.status == Status.QUEUED.value)
        .distinct()
    )
    return [int(r) for r in conn.execute(query).scalars()]


def count_queued(conn: Connection) -> int:
    """Conversations waiting for a person, in all stores (for the operators' metrics)."""
    query = select(func.count()).where(conversations.c.status == Status.QUEUED.value)
    return int(conn.execute(query).scalar_one())


def recent_waits(conn: Connection, store_id: int, since: datetime, limit: int = 50) -> list[float]:
    """Seconds from queued to first reply of the store's recently answered handoffs."""
    query = (
        select(conversations.c.handoff_at, conversations.c.first_reply_at)
        .where(
            conversations.c.store_id == store_id,
            conversations.c.first_reply_at.is_not(None),
            conversations.c.first_reply_at >= since,
        )
        .order_by(conversations.c.first_reply_at.desc())
        .limit(limit)
    )
    waits = []
    for handoff_at, first_reply_at in conn.execute(query).all():
        if handoff_at is not None:
            waits.append(max(0.0, (first_reply_at - handoff_at).total_seconds()))
    return waits


def renew_presence(conn: Connection, agent_ids: list[int], until: datetime) -> None:
    conn.execute(update(agents).where(agents.c.id.in_(agent_ids)).values(presence_until=until))


def list_conversations_of_absent_agents(
    conn: Connection, before: datetime, limit: int = 200
) -> list[Any]:
    """Conversations still assigned to agents whose presence lapsed before `before`."""
    query = (
        select(
            conversations.c.id,
            conversations.c.store_id,
            conversations.c.assignee_id,
            agents.c.presence_until,
        )
        .join(agents, agents.c.id == conversations.c.assignee_id)
        .where(
            conversations.c.status == Status.ASSIGNED.value,
            and_(agents.c.presence_until.is_not(None), agents.c.presence_until < before),
        )
        .limit(limit)
    )
    return list(conn.execute(query).all())


def mark_active(conn: Connection, agent_ids: list[int], now: datetime) -> None:
    conn.execute(update(agents).where(agents.c.id.in_(agent_ids)).values(active_at=now))


def list_agents(conn: Connection, agent_ids: list[int]) -> list[Any]:
    return list(conn.execute(select(agents).where(agents.c.id.in_(agent_ids))).all())
