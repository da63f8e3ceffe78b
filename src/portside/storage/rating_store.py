"""CSAT ratings, and what a resolution's rating request is made from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.domain.conversations import ActorType, EventType
from portside.storage.tables import agents, events, ratings

# How many of the bot's latest events are read for the language it last spoke.
_BOT_EVENTS = 5


def insert_rating(
    conn: Connection,
    *,
    store_id: int,
    conversation_id: int,
    resolved_seq: int,
    resolved_by: str,
    agent_id: int | None,
    now: datetime,
) -> int:
    result = conn.execute(
        insert(ratings)
        .values(
            store_id=store_id,
            conversation_id=conversation_id,
            resolved_seq=resolved_seq,
            resolved_by=resolved_by,
            agent_id=agent_id,
            created_at=now,
        )
        .returning(ratings.c.id)
    )
    return int(result.scalar_one())


def find_rating(
    conn: Connection, store_id: int, conversation_id: int, resolved_seq: int
) -> Row[Any] | None:
    query = select(ratings).where(
        ratings.c.store_id == store_id,
        ratings.c.conversation_id == conversation_id,
        ratings.c.resolved_seq == resolved_seq,
    )
    return conn.execute(query).first()


def record_score(
    conn: Connection, rating_id: int, *, score: int, comment: str | None, now: datetime
) -> bool:
    """Store the shopper's answer; False if the request was answered already. The
    condition is in the UPDATE, so of two answers sent at once exactly one is stored
    (the row lock orders them on PostgreSQL; SQLite has one writer)."""
    result = conn.execute(
        update(ratings)
        .where(ratings.c.id == rating_id, ratings.c.score.is_(None))
        .values(score=score, comment=comment, rated_at=now)
    )
    return bool(result.rowcount)


def list_summary(
    conn: Connection, store_id: int, *, since: datetime | None, until: datetime | None
) -> list[Row[Any]]:
    """Per (resolved_by, agent): requests, answers and their average score, for the
    resolutions between `since` and `until`."""
    query = (
        select(
            ratings.c.resolved_by,
            ratings.c.agent_id,
            agents.c.name.label("agent_name"),
            func.count().label("requested"),
            func.count(ratings.c.score).label("rated"),
            func.avg(ratings.c.score).label("average"),
        )
        .outerjoin(agents, agents.c.id == ratings.c.agent_id)
        .where(ratings.c.store_id == store_id)
        .group_by(ratings.c.resolved_by, ratings.c.agent_id, agents.c.name)
        .order_by(ratings.c.resolved_by, ratings.c.agent_id)
    )
    if since is not None:
        query = query.where(ratings.c.created_at >= since)
    if until is not None:
        query = query.where(ratings.c.created_at < until)
    return list(conn.execute(query).all())


def ever_assigned(conn: Connection, conversation_id: int) -> bool:
    """Whether any status change of the conversation gave it to a person."""
    query = select(events.c.data).where(
        events.c.conversation_id == conversation_id,
        events.c.type == EventType.STATUS_CHANGED.value,
    )
    return any(
        isinstance(data, dict) and data.get("to") == "assigned"
        for data in conn.execute(query).scalars()
    )


def find_bot_language(conn: Connection, conversation_id: int) -> str | None:
    """The language the bot last understood the shopper in (its replies' `data.bot`,
    its handoff packets' `language`), or None if it never said."""
    query = (
        select(events.c.type, events.c.data)
        .where(
            events.c.conversation_id == conversation_id,
            events.c.actor_type == ActorType.BOT.value,
        )
        .order_by(events.c.seq.desc())
        .limit(_BOT_EVENTS)
    )
    for kind, data in conn.execute(query).all():
        if not isinstance(data, dict):
            continue
        details = data.get("bot") if kind == EventType.MESSAGE_CREATED.value else data
        language = details.get("language") if isinstance(details, dict) else None
        if isinstance(language, str) and language:
            return language
    return None
