"""Queries on the emails a conversation sent and received (tables.emails).

A row is written before an email is sent (`pending`), so that of two nodes, or two
tries, only one sends it: the unique index on (store_id, message_id) refuses the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import emails


def insert_email(
    conn: Connection,
    *,
    store_id: int,
    conversation_id: int,
    direction: str,
    message_id: str,
    event_id: int | None,
    status: str,
    now: datetime,
) -> int:
    """A new row; raises IntegrityError if the store has this Message-ID already."""
    result = conn.execute(
        insert(emails)
        .values(
            store_id=store_id,
            conversation_id=conversation_id,
            direction=direction,
            message_id=message_id,
            event_id=event_id,
            status=status,
            created_at=now,
            updated_at=now,
        )
        .returning(emails.c.id)
    )
    return int(result.scalar_one())


def find_email(conn: Connection, store_id: int, message_id: str) -> Row[Any] | None:
    query = select(emails).where(emails.c.store_id == store_id, emails.c.message_id == message_id)
    return conn.execute(query).first()


def update_email(
    conn: Connection, email_id: int, *, status: str, error: str | None, now: datetime
) -> None:
    conn.execute(
        update(emails)
        .where(emails.c.id == email_id)
        .values(status=status, error=error, updated_at=now)
    )


def list_message_ids(conn: Connection, conversation_id: int, limit: int) -> list[str]:
    """The Message-IDs of a conversation's latest emails, either way, oldest first;
    not those that failed, which never reached the shopper."""
    query = (
        select(emails.c.message_id)
        .where(emails.c.conversation_id == conversation_id, emails.c.status != "failed")
        .order_by(emails.c.id.desc())
        .limit(limit)
    )
    return [row.message_id for row in conn.execute(query)][::-1]


def find_conversation_by_message_ids(
    conn: Connection, store_id: int, message_ids: Sequence[str]
) -> int | None:
    """The conversation of the latest of our outgoing emails among `message_ids`."""
    if not message_ids:
        return None
    query = (
        select(emails.c.conversation_id)
        .where(
            emails.c.store_id == store_id,
            emails.c.direction == "out",
            emails.c.message_id.in_(list(message_ids)),
        )
        .order_by(emails.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return None if row is None else int(row.conversation_id)


def list_emails(conn: Connection, conversation_id: int) -> list[Row[Any]]:
    query = select(emails).where(emails.c.conversation_id == conversation_id).order_by(emails.c.id)
    return list(conn.execute(query).all())
