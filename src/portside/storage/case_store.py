"""Cases: returns and exchanges the bot opens for the store's agents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import cases


def insert_case(
    conn: Connection,
    *,
    store_id: int,
    conversation_id: int,
    kind: str,
    key: str,
    data: dict[str, Any],
    now: datetime,
) -> int:
    result = conn.execute(
        insert(cases)
        .values(
            store_id=store_id,
            conversation_id=conversation_id,
            kind=kind,
            status="open",
            key=key,
            data=data,
            created_at=now,
            updated_at=now,
        )
        .returning(cases.c.id)
    )
    return int(result.scalar_one())


def find_case_by_key(conn: Connection, store_id: int, key: str) -> Row[Any] | None:
    query = select(cases).where(cases.c.store_id == store_id, cases.c.key == key)
    return conn.execute(query).first()


def find_case(conn: Connection, store_id: int, case_id: int) -> Row[Any] | None:
    query = select(cases).where(cases.c.store_id == store_id, cases.c.id == case_id)
    return conn.execute(query).first()


def list_cases(
    conn: Connection,
    store_id: int,
    *,
    status: str | None = None,
    conversation_id: int | None = None,
    limit: int = 100,
) -> list[Row[Any]]:
    query = select(cases).where(cases.c.store_id == store_id)
    if status is not None:
        query = query.where(cases.c.status == status)
    if conversation_id is not None:
        query = query.where(cases.c.conversation_id == conversation_id)
    return list(conn.execute(query.order_by(cases.c.id.desc()).limit(limit)).all())


def update_case(
    conn: Connection,
    store_id: int,
    case_id: int,
    now: datetime,
    *,
    status_was: str | None = None,
    **values: Any,
) -> int:
    """Change a case; with `status_was`, only while it still has that status (so two
    agents deciding at once cannot both win). The number of rows changed."""
    query = update(cases).where(cases.c.store_id == store_id, cases.c.id == case_id)
    if status_was is not None:
        query = query.where(cases.c.status == status_was)
    result = conn.execute(query.values(updated_at=now, **values))
    return int(result.rowcount or 0)
