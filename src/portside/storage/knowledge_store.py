"""A store's knowledge entries (FAQ and policies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from portside.storage.tables import knowledge


def upsert_entries(
    conn: Connection, store_id: int, entries: list[dict[str, Any]], now: datetime
) -> int:
    existing = {
        row.slug: row.id
        for row in conn.execute(
            select(knowledge.c.slug, knowledge.c.id).where(knowledge.c.store_id == store_id)
        )
    }
    for entry in entries:
        values = {
            "intents": entry["intents"],
            "title": entry["title"],
            "text": entry["text"],
            "updated_at": now,
        }
        if entry["id"] in existing:
            conn.execute(
                update(knowledge).where(knowledge.c.id == existing[entry["id"]]).values(**values)
            )
        else:
            conn.execute(insert(knowledge).values(store_id=store_id, slug=entry["id"], **values))
    return len(entries)


def list_entries(conn: Connection, store_id: int) -> list[dict[str, Any]]:
    query = select(knowledge).where(knowledge.c.store_id == store_id).order_by(knowledge.c.id)
    return [
        {"id": row.slug, "intents": row.intents, "title": row.title, "text": row.text}
        for row in conn.execute(query)
    ]


def delete_entry(conn: Connection, store_id: int, slug: str) -> int:
    result = conn.execute(
        delete(knowledge).where(knowledge.c.store_id == store_id, knowledge.c.slug == slug)
    )
    return int(result.rowcount or 0)
