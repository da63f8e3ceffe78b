"""A store's canned replies: one text per shortcut and language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import canned_replies


def insert_reply(
    conn: Connection, *, store_id: int, shortcut: str, language: str, text: str, now: datetime
) -> int:
    result = conn.execute(
        insert(canned_replies)
        .values(
            store_id=store_id,
            shortcut=shortcut,
            language=language,
            text=text,
            created_at=now,
            updated_at=now,
        )
        .returning(canned_replies.c.id)
    )
    return int(result.scalar_one())


def find_reply(conn: Connection, store_id: int, reply_id: int) -> Row[Any] | None:
    query = select(canned_replies).where(
        canned_replies.c.store_id == store_id, canned_replies.c.id == reply_id
    )
    return conn.execute(query).first()


def find_reply_by_key(
    conn: Connection, store_id: int, shortcut: str, language: str
) -> Row[Any] | None:
    query = select(canned_replies).where(
        canned_replies.c.store_id == store_id,
        canned_replies.c.shortcut == shortcut,
        canned_replies.c.language == language,
    )
    return conn.execute(query).first()


def update_reply(conn: Connection, store_id: int, reply_id: int, **values: Any) -> int:
    result = conn.execute(
        update(canned_replies)
        .where(canned_replies.c.store_id == store_id, canned_replies.c.id == reply_id)
        .values(**values)
    )
    return int(result.rowcount or 0)


def delete_reply(conn: Connection, store_id: int, reply_id: int) -> int:
    result = conn.execute(
        delete(canned_replies).where(
            canned_replies.c.store_id == store_id, canned_replies.c.id == reply_id
        )
    )
    return int(result.rowcount or 0)


def count_replies(conn: Connection, store_id: int) -> int:
    query = select(func.count()).where(canned_replies.c.store_id == store_id)
    return int(conn.execute(query).scalar_one())


def list_replies(conn: Connection, store_id: int) -> list[Row[Any]]:
    """Every reply of the store, by shortcut then language (a store has at most a few
    hundred: services/canned.py searches them in Python, where case folding is the same
    for every language on both databases)."""
    statement = (
        select(canned_replies)
        .where(canned_replies.c.store_id == store_id)
        .order_by(canned_replies.c.shortcut, canned_replies.c.language)
    )
    return list(conn.execute(statement).all())


def upsert_replies(
    conn: Connection, store_id: int, replies: list[dict[str, str]], now: datetime
) -> int:
    """Each reply created, or its text replaced if the store has its shortcut and
    language (the demo store, seeded again)."""
    for reply in replies:
        existing = find_reply_by_key(conn, store_id, reply["shortcut"], reply["language"])
        if existing is None:
            insert_reply(conn, store_id=store_id, now=now, **reply)
        elif existing.text != reply["text"]:
            update_reply(conn, store_id, existing.id, text=reply["text"], updated_at=now)
    return len(replies)
