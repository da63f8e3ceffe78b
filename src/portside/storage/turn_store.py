"""Shoppers' turns the bot has not answered (services/turn_recovery.py).

A turn is a shopper's `message.created`; the bot's answer to it carries the client_id
"bot:<its event id>". The recovery reads the log forward by event id from a cursor, so
every query here walks the primary key or the unique (conversation_id, client_id) and
(conversation_id, seq) indexes, never a whole table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, select
from sqlalchemy.engine import Connection

from portside.domain.conversations import ActorType, EventType, Status
from portside.storage.tables import conversations, events

# Where the bot answers: with it, or waiting in the queue (outside business hours).
BOT_STATUSES = (Status.BOT.value, Status.QUEUED.value)


def find_first_event_since(conn: Connection, when: datetime) -> int | None:
    """The id of the first event written at or after `when`, None if none is: found by
    halving the id range (ids grow with time), a few dozen index probes."""
    low, high = conn.execute(select(func.min(events.c.id), func.max(events.c.id))).one()
    if high is None or _written_at_or_after(conn, high) < when:
        return None
    low, high = int(low), int(high)
    while low < high:
        middle = (low + high) // 2
        if _written_at_or_after(conn, middle) >= when:
            high = middle
        else:
            low = middle + 1
    first: int = conn.execute(select(func.min(events.c.id)).where(events.c.id >= low)).scalar_one()
    return first


def _written_at_or_after(conn: Connection, event_id: int) -> datetime:
    """When the first event with an id at or above `event_id` was written."""
    query = select(events.c.created_at).where(events.c.id >= event_id).order_by(events.c.id)
    written: datetime = conn.execute(query.limit(1)).scalar_one()
    return written


def find_last_event_before(conn: Connection, after_id: int, when: datetime) -> int | None:
    """The highest id after `after_id` of an event written by `when`."""
    query = select(func.max(events.c.id)).where(events.c.id > after_id, events.c.created_at <= when)
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def list_unanswered_turns(
    conn: Connection, *, after_id: int, up_to_id: int, since: datetime, limit: int
) -> list[Any]:
    """Shoppers' messages with ids in (after_id, up_to_id], written since `since`, that
    the bot has not answered, in conversations where it answers now and whose status has
    not changed since (a person took it, or it was handed off: not the bot's to answer).
    Each row: the event (id, store_id, conversation_id, seq, data) and the conversation's
    visitor_id, status and team_id."""
    reply = events.alias("reply")
    later = events.alias("later")
    answered = exists().where(
        reply.c.conversation_id == events.c.conversation_id,
        reply.c.client_id == literal("bot:") + cast(events.c.id, String),
    )
    moved = exists().where(
        later.c.conversation_id == events.c.conversation_id,
        later.c.seq > events.c.seq,
        later.c.type == EventType.STATUS_CHANGED.value,
    )
    query = (
        select(
            events.c.id,
            events.c.store_id,
            events.c.conversation_id,
            events.c.seq,
            events.c.data,
            conversations.c.visitor_id,
            conversations.c.status,
            conversations.c.team_id,
        )
        .select_from(
            events.join(conversations, and_(conversations.c.id == events.c.conversation_id))
        )
        .where(
            events.c.id > after_id,
            events.c.id <= up_to_id,
            events.c.type == EventType.MESSAGE_CREATED.value,
            events.c.actor_type == ActorType.VISITOR.value,
            events.c.created_at >= since,
            conversations.c.status.in_(BOT_STATUSES),
            ~answered,
            ~moved,
        )
        .order_by(events.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).all())


def has_bot_reply(conn: Connection, conversation_id: int, event_id: int) -> bool:
    query = select(events.c.id).where(
        events.c.conversation_id == conversation_id, events.c.client_id == f"bot:{event_id}"
    )
    return conn.execute(query.limit(1)).first() is not None
