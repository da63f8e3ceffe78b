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

from portside.storage.tables import conversations, emails, events


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


# Emails whose node stopped while sending them (services/email_resend.py).


def list_stalled(
    conn: Connection, *, touched_before: datetime, created_since: datetime, limit: int
) -> list[Row[Any]]:
    """Outgoing emails still `pending` that nobody has touched since `touched_before`."""
    query = (
        select(emails)
        .where(
            emails.c.status == "pending",
            emails.c.direction == "out",
            emails.c.updated_at < touched_before,
            emails.c.created_at >= created_since,
        )
        .order_by(emails.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).all())


def retake_email(
    conn: Connection, email_id: int, *, seen: datetime, note: str, now: datetime
) -> bool:
    """Take over a stalled email, if it is still as it was seen (`updated_at`): of
    several nodes, one does."""
    result = conn.execute(
        update(emails)
        .where(emails.c.id == email_id, emails.c.status == "pending", emails.c.updated_at == seen)
        .values(error=note, updated_at=now)
    )
    return bool(result.rowcount)


def fail_abandoned(
    conn: Connection,
    *,
    created_before: datetime,
    touched_before: datetime,
    error: str,
    now: datetime,
) -> int:
    """Mark `failed` the stalled emails too old to send now; how many."""
    result = conn.execute(
        update(emails)
        .where(
            emails.c.status == "pending",
            emails.c.direction == "out",
            emails.c.created_at < created_before,
            emails.c.updated_at < touched_before,
        )
        .values(status="failed", error=error, updated_at=now)
    )
    return int(result.rowcount)


def find_reply(conn: Connection, event_id: int) -> Any:
    """An agent's reply an email carries: its event's data and author, and the visitor."""
    query = (
        select(events.c.data, events.c.actor_name, conversations.c.visitor_id)
        .select_from(events.join(conversations, conversations.c.id == events.c.conversation_id))
        .where(events.c.id == event_id)
    )
    return conn.execute(query).first()
