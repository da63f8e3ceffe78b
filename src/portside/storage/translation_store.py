"""Queries translation needs beyond conversation_store's: one event of a conversation
by its id. Translations themselves are events (`message.translated`), found by their
client_id "tr:<event id>:<language>" with conversation_store.find_event_by_client_id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import events

_FIND_EVENT = select(events).where(
    events.c.id == bindparam("event_id"),
    events.c.conversation_id == bindparam("conversation_id"),
)


def find_event(conn: Connection, conversation_id: int, event_id: int) -> Row[Any] | None:
    params = {"event_id": event_id, "conversation_id": conversation_id}
    return conn.execute(_FIND_EVENT, params).first()


def translation_client_id(event_id: int, language: str) -> str:
    return f"tr:{event_id}:{language}"
