"""Queries that erase: a conversation with its log, or a shopper with everything of theirs.

The database's ON DELETE rules do the rest: a conversation takes its events, cases,
ratings and emails with it (trigger fires and order attributions keep their row, without
it); a visitor takes their conversations and shopping-behaviour events (orders and
coupon codes keep theirs, without them). Attachments are not left to a CASCADE: their
files must go too (services/erasure.py takes them first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import conversations, intent_examples, trigger_fires, visitors


def lock_conversation(conn: Connection, store_id: int, conversation_id: int) -> Row[Any] | None:
    """The conversation, its row locked until commit (on PostgreSQL; SQLite has one
    writer): a message being sent into it commits first, or finds it gone."""
    query = select(conversations).where(
        conversations.c.store_id == store_id, conversations.c.id == conversation_id
    )
    return conn.execute(_locked(conn, query)).first()


def lock_visitor_conversations(conn: Connection, store_id: int, visitor_id: int) -> list[int]:
    """The ids of a visitor's conversations, their rows locked until commit."""
    query = (
        select(conversations.c.id)
        .where(conversations.c.store_id == store_id, conversations.c.visitor_id == visitor_id)
        .order_by(conversations.c.id)
    )
    return [int(row[0]) for row in conn.execute(_locked(conn, query))]


def delete_conversation(conn: Connection, store_id: int, conversation_id: int) -> bool:
    # A trigger fire keeps its row, without the conversation or the proactive message's
    # event id: SQLite may give that id to a later event.
    conn.execute(
        update(trigger_fires)
        .where(
            trigger_fires.c.store_id == store_id,
            trigger_fires.c.conversation_id == conversation_id,
        )
        .values(event_id=None)
    )
    result = conn.execute(
        delete(conversations).where(
            conversations.c.store_id == store_id, conversations.c.id == conversation_id
        )
    )
    return bool(result.rowcount)


def delete_visitor(conn: Connection, store_id: int, visitor_id: int) -> bool:
    result = conn.execute(
        delete(visitors).where(visitors.c.store_id == store_id, visitors.c.id == visitor_id)
    )
    return bool(result.rowcount)


def delete_intent_examples(conn: Connection, store_id: int, conversation_ids: Sequence[int]) -> int:
    """The labelled examples taken from these conversations' messages: the shopper's own
    words (their foreign key would only be set to NULL)."""
    if not conversation_ids:
        return 0
    result = conn.execute(
        delete(intent_examples).where(
            intent_examples.c.store_id == store_id,
            intent_examples.c.conversation_id.in_(list(conversation_ids)),
        )
    )
    return int(result.rowcount)


def _locked(conn: Connection, query: Any) -> Any:
    return query.with_for_update() if conn.dialect.name == "postgresql" else query
