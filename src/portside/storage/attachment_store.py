"""Queries on attachments: uploads, the messages they went out with, the sweeps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, null, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

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


# An erased attachment: in no conversation and nobody's (its conversation or shopper was
# erased, or its uploader's account deleted before it was sent). Its row only names its
# files until they are deleted.
_ERASED = and_(
    attachments.c.conversation_id.is_(None),
    attachments.c.visitor_id.is_(None),
    attachments.c.agent_id.is_(None),
)
_KEYS = (attachments.c.id, attachments.c.storage_key, attachments.c.thumbnail_key)


def is_erased(row: Row[Any]) -> bool:
    return row.conversation_id is None and row.visitor_id is None and row.agent_id is None


def erase_attachments(
    conn: Connection,
    store_id: int,
    *,
    conversation_ids: Sequence[int],
    visitor_id: int | None = None,
) -> list[Row[Any]]:
    """In an erasure's transaction: take the attachments of these conversations (and,
    with `visitor_id`, the shopper's uploads never sent) out of them, with what was said
    about them (transcript, description, name). Their rows stay, erased, until their
    files are deleted; a CASCADE would lose the keys. The rows: id and keys."""
    taken: ColumnElement[bool] = attachments.c.conversation_id.in_(list(conversation_ids))
    if visitor_id is not None:
        taken = or_(taken, attachments.c.visitor_id == visitor_id)
    result = conn.execute(
        update(attachments)
        .where(attachments.c.store_id == store_id, taken)
        .values(
            conversation_id=None,
            event_id=None,
            visitor_id=None,
            agent_id=None,
            original_name=None,
            transcript=null(),
            description=null(),
        )
        .returning(*_KEYS)
    )
    return list(result)


def erase_unsent_before(conn: Connection, cutoff: datetime, limit: int) -> list[Row[Any]]:
    """Erase up to `limit` uploads never sent, made before `cutoff` (one a message takes
    meanwhile is left alone: the guard is checked again on the locked row). The rows."""
    ids = [
        int(row[0])
        for row in conn.execute(
            select(attachments.c.id)
            .where(
                attachments.c.conversation_id.is_(None),
                attachments.c.created_at < cutoff,
                or_(attachments.c.visitor_id.is_not(None), attachments.c.agent_id.is_not(None)),
            )
            .order_by(attachments.c.id)
            .limit(limit)
        )
    ]
    if not ids:
        return []
    result = conn.execute(
        update(attachments)
        .where(attachments.c.id.in_(ids), attachments.c.conversation_id.is_(None))
        .values(visitor_id=None, agent_id=None, original_name=None)
        .returning(*_KEYS)
    )
    return list(result)


def list_erased(conn: Connection, *, after_id: int, limit: int) -> list[Row[Any]]:
    """Erased attachments whose files are still to be deleted, by id after `after_id`."""
    return list(
        conn.execute(
            select(*_KEYS)
            .where(_ERASED, attachments.c.id > after_id)
            .order_by(attachments.c.id)
            .limit(limit)
        )
    )


def delete_erased(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Delete these rows if erased (their files are gone); the ids deleted."""
    result = conn.execute(
        delete(attachments)
        .where(attachments.c.id.in_(list(ids)), _ERASED)
        .returning(attachments.c.id)
    )
    return {int(row[0]) for row in result}
