"""Queries on conversations and their event log.

The statements on the path of every message are built once, with bound parameters:
building a SQLAlchemy statement costs several times more than running it on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from portside.domain.conversations import (
    INTERNAL_EVENTS,
    Actor,
    ActorType,
    Event,
    EventType,
    Status,
)
from portside.storage.tables import agents, conversations, events, visitors


def insert_conversation(
    conn: Connection, *, store_id: int, visitor_id: int, now: datetime, language: str | None
) -> int:
    result = conn.execute(
        insert(conversations)
        .values(
            store_id=store_id,
            visitor_id=visitor_id,
            status=Status.BOT.value,
            last_seq=0,
            created_at=now,
            updated_at=now,
            language=language,
        )
        .returning(conversations.c.id)
    )
    return int(result.scalar_one())


_FIND_CONVERSATION = select(conversations).where(
    conversations.c.id == bindparam("conversation_id"),
    conversations.c.store_id == bindparam("store_id"),
)


def find_conversation(conn: Connection, store_id: int, conversation_id: int) -> Row[Any] | None:
    params = {"conversation_id": conversation_id, "store_id": store_id}
    return conn.execute(_FIND_CONVERSATION, params).first()


_LATEST_FOR_VISITOR = (
    select(conversations)
    .where(
        conversations.c.store_id == bindparam("store_id"),
        conversations.c.visitor_id == bindparam("visitor_id"),
    )
    .order_by(conversations.c.id.desc())
    .limit(1)
)


def find_latest_conversation_for_visitor(
    conn: Connection, store_id: int, visitor_id: int
) -> Row[Any] | None:
    params = {"store_id": store_id, "visitor_id": visitor_id}
    return conn.execute(_LATEST_FOR_VISITOR, params).first()


def find_latest_conversations_for_visitors(
    conn: Connection, store_id: int, visitor_ids: list[int]
) -> list[Row[Any]]:
    """Each of the visitors' latest conversation in the store (one statement), for
    those who have one."""
    latest = (
        select(func.max(conversations.c.id))
        .where(conversations.c.store_id == store_id, conversations.c.visitor_id.in_(visitor_ids))
        .group_by(conversations.c.visitor_id)
    )
    return list(conn.execute(select(conversations).where(conversations.c.id.in_(latest))))


def find_last_seqs(conn: Connection, store_id: int, conversation_ids: list[int]) -> dict[int, int]:
    """The last seq of each of the store's conversations among `conversation_ids`."""
    query = select(conversations.c.id, conversations.c.last_seq).where(
        conversations.c.store_id == store_id, conversations.c.id.in_(conversation_ids)
    )
    return {row.id: row.last_seq for row in conn.execute(query)}


@cache
def _next_seq_statement(changed: tuple[str, ...], guarded: bool) -> Update:
    statement = update(conversations).where(conversations.c.id == bindparam("conversation_id"))
    if guarded:
        statement = statement.where(conversations.c.status == bindparam("expect_status"))
    return statement.values(
        last_seq=conversations.c.last_seq + 1,
        updated_at=bindparam("now"),
        **{name: bindparam(f"new_{name}") for name in changed},
    ).returning(conversations.c.last_seq)


def take_next_seq(
    conn: Connection,
    conversation_id: int,
    now: datetime,
    *,
    expect_status: str | None = None,
    **changes: Any,
) -> int | None:
    """Reserve the next seq of a conversation, applying `changes` in the same statement.

    The UPDATE locks the conversation's row until commit, so two writers to one
    conversation are serialised and seqs come out gap-free and in commit order. With
    `expect_status`, nothing happens (None) unless the conversation still has that
    status once the row is locked: of two agents taking one conversation on PostgreSQL,
    the second then sees the first one's change instead of overwriting it.
    """
    statement = _next_seq_statement(tuple(sorted(changes)), expect_status is not None)
    params: dict[str, Any] = {"conversation_id": conversation_id, "now": now}
    if expect_status is not None:
        params["expect_status"] = expect_status
    params.update({f"new_{name}": value for name, value in changes.items()})
    seq = conn.execute(statement, params).scalar_one_or_none()
    return None if seq is None else int(seq)


# The VALUES come from the parameters given at execution.
_INSERT_EVENT = insert(events).returning(events.c.id)


def insert_event(
    conn: Connection,
    *,
    store_id: int,
    conversation_id: int,
    visitor_id: int,
    seq: int,
    type: EventType,
    actor: Actor,
    data: dict[str, Any],
    now: datetime,
    client_id: str | None = None,
) -> Event:
    result = conn.execute(
        _INSERT_EVENT,
        {
            "store_id": store_id,
            "conversation_id": conversation_id,
            "seq": seq,
            "type": type.value,
            "actor_type": actor.type.value,
            "actor_id": actor.id,
            "actor_name": actor.name,
            "client_id": client_id,
            "data": data,
            "created_at": now,
        },
    )
    return Event(
        id=int(result.scalar_one()),
        store_id=store_id,
        conversation_id=conversation_id,
        visitor_id=visitor_id,
        seq=seq,
        type=type,
        at=now,
        actor=actor,
        data=data,
    )


_FIND_BY_CLIENT_ID = select(events).where(
    events.c.conversation_id == bindparam("conversation_id"),
    events.c.client_id == bindparam("client_id"),
)


def find_event_by_client_id(
    conn: Connection, conversation_id: int, client_id: str
) -> Row[Any] | None:
    params = {"conversation_id": conversation_id, "client_id": client_id}
    return conn.execute(_FIND_BY_CLIENT_ID, params).first()


def list_events(
    conn: Connection,
    conversation_id: int,
    *,
    visitor_id: int,
    after_seq: int,
    limit: int,
    upto_seq: int | None = None,
    public_only: bool = False,
) -> list[Event]:
    query = (
        select(events)
        .where(events.c.conversation_id == conversation_id, events.c.seq > after_seq)
        .order_by(events.c.seq)
        .limit(limit)
    )
    if upto_seq is not None:
        query = query.where(events.c.seq <= upto_seq)
    if public_only:
        query = query.where(events.c.type.not_in([kind.value for kind in INTERNAL_EVENTS]))
    rows = (conn.execute(query)).all()
    return [event_from_row(row, visitor_id) for row in rows]


def event_from_row(row: Row[Any], visitor_id: int) -> Event:
    return Event(
        id=row.id,
        store_id=row.store_id,
        conversation_id=row.conversation_id,
        visitor_id=visitor_id,
        seq=row.seq,
        type=EventType(row.type),
        at=row.created_at,
        actor=Actor(ActorType(row.actor_type), row.actor_id, row.actor_name),
        data=row.data,
    )


INBOX_FILTERS = ("all", "mine", "unassigned", "bot", "queued", "assigned", "resolved")


def _inbox_query() -> Select[Any]:
    """Conversations with their visitor's context and assignee's name: one inbox row each."""
    return (
        select(
            conversations,
            agents.c.name.label("assignee_name"),
            *(column.label(f"visitor_{column.name}") for column in _VISITOR_COLUMNS),
        )
        .join(visitors, visitors.c.id == conversations.c.visitor_id)
        .outerjoin(agents, agents.c.id == conversations.c.assignee_id)
    )


_VISITOR_COLUMNS = (
    visitors.c.name,
    visitors.c.email,
    visitors.c.language,
    visitors.c.country,
    visitors.c.timezone,
    visitors.c.page_url,
    visitors.c.page_title,
    visitors.c.product,
    visitors.c.last_seen_at,
    visitors.c.created_at,
)


def list_conversations(
    conn: Connection,
    store_id: int,
    *,
    filter: str,
    agent_id: int,
    limit: int,
    before: tuple[datetime, int] | None,
) -> list[Row[Any]]:
    query = (
        _inbox_query()
        .where(conversations.c.store_id == store_id)
        .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        .limit(limit)
    )
    status = conversations.c.status
    if filter == "mine":
        query = query.where(
            conversations.c.assignee_id == agent_id, status == Status.ASSIGNED.value
        )
    elif filter == "unassigned":
        query = query.where(status.in_([Status.BOT.value, Status.QUEUED.value]))
    elif filter in ("bot", "queued", "assigned", "resolved"):
        query = query.where(status == filter)
    if before is not None:
        at, conv_id = before
        query = query.where(
            or_(
                conversations.c.updated_at < at,
                and_(conversations.c.updated_at == at, conversations.c.id < conv_id),
            )
        )
    return list((conn.execute(query)).all())


def find_inbox_row(conn: Connection, store_id: int, conversation_id: int) -> Row[Any] | None:
    query = _inbox_query().where(
        conversations.c.store_id == store_id, conversations.c.id == conversation_id
    )
    row: Row[Any] | None = (conn.execute(query)).first()
    return row


def filter_store_conversations(
    conn: Connection, store_id: int, conversation_ids: list[int]
) -> dict[int, int]:
    """Of the given ids, those in the store, each with its last seq."""
    if not conversation_ids:
        return {}
    query = select(conversations.c.id, conversations.c.last_seq).where(
        conversations.c.store_id == store_id, conversations.c.id.in_(conversation_ids)
    )
    return {row.id: row.last_seq for row in conn.execute(query)}
