"""Queries on attachments: uploads, the messages they went out with, the sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import attachments


def insert_attachment(conn: Connection, **values: Any) -> int:
    row = conn.execute(insert(attachments).values(**values).returning(attachments.c.id)).one()
    return int(row[0])


def find_attachment(conn: Connection, store_id: int, attachment_id: int) -> Row[Any] | None:
    return conn.execute(
        select(attachments).where(
            attachments.c.store_id == store_id, attachments.c.id == attachment_id
        )
    ).first()


def find_any_attachment(conn: Connection, attachment_id: int) -> Row[Any] | None:
    """By id alone: for a signed file URL, whose signature names the store."""
    return conn.execute(select(attachments).where(attachments.c.id == attachment_id)).first()


def list_unsent(
    conn: Connection,
    store_id: int,
    ids: Sequence[int],
    *,
    visitor_id: int | None,
    agent_id: int | None,
) -> list[Row[Any]]:
    """The given uploads of this sender that no message has taken yet (locked on
    PostgreSQL until the transaction ends: two sends cannot both take one)."""
    query = select(attachments).where(
        attachments.c.store_id == store_id,
        attachments.c.id.in_(list(ids)),
        attachments.c.conversation_id.is_(None),
    )
    if visitor_id is not None:
        query = query.where(attachments.c.visitor_id == visitor_id)
    else:
        query = query.where(attachments.c.agent_id == agent_id, attachments.c.visitor_id.is_(None))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return list(conn.execute(query.order_by(attachments.c.id)))


def attach_to_event(
    conn: Connection, store_id: int, ids: Sequence[int], *, conversation_id: int, event_id: int
) -> int:
    """Mark unsent uploads as sent with a message; how many were still unsent."""
    result = conn.execute(
        update(attachments)
        .where(
            attachments.c.store_id == store_id,
            attachments.c.id.in_(list(ids)),
            attachments.c.conversation_id.is_(None),
        )
        .values(conversation_id=conversation_id, event_id=event_id)
    )
    return int(result.rowcount)


def update_attachment(conn: Connection, store_id: int, attachment_id: int, **values: Any) -> bool:
    result = conn.execute(
        update(attachments)
        .where(attachments.c.store_id == store_id, attachments.c.id == attachment_id)
        .values(**values)
    )
    return bool(result.rowcount)


def list_conversation_keys(conn: Connection, store_id: int, conversation_id: int) -> list[str]:
    rows = conn.execute(
        select(attachments.c.storage_key, attachments.c.thumbnail_key).where(
            attachments.c.store_id == store_id,
            attachments.c.conversation_id == conversation_id,
        )
    )
    return [key for row in rows for key in row if key]


def list_unsent_before(conn: Connection, cutoff: datetime, limit: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(attachments.c.id, attachments.c.storage_key, attachments.c.thumbnail_key)
            .where(attachments.c.conversation_id.is_(None), attachments.c.created_at < cutoff)
            .order_by(attachments.c.id)
            .limit(limit)
        )
    )


def delete_unsent(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Delete these uploads if still unsent (a message may have taken one meanwhile);
    the ids deleted."""
    result = conn.execute(
        delete(attachments)
        .where(attachments.c.id.in_(list(ids)), attachments.c.conversation_id.is_(None))
        .returning(attachments.c.id)
    )
    return {int(row[0]) for row in result}
