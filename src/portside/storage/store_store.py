"""Queries on stores, agents, visitors and products."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import agents, orders, products, stores, visitors


def insert_store(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(stores).values(**values).returning(stores.c.id))
    return int(result.scalar_one())


def find_store(conn: Connection, store_id: int) -> Row[Any] | None:
    return (conn.execute(select(stores).where(stores.c.id == store_id))).first()


def find_store_by_key(conn: Connection, widget_key: str) -> Row[Any] | None:
    result = conn.execute(select(stores).where(stores.c.widget_key == widget_key))
    return result.first()


def find_stores_by_keys(conn: Connection, widget_keys: list[str]) -> list[Row[Any]]:
    """The stores with these widget keys (one statement; a bounded list)."""
    return list(conn.execute(select(stores).where(stores.c.widget_key.in_(widget_keys))))


def list_stores(conn: Connection) -> list[Row[Any]]:
    return list((conn.execute(select(stores).order_by(stores.c.id))).all())


def update_store(conn: Connection, store_id: int, **values: Any) -> None:
    conn.execute(update(stores).where(stores.c.id == store_id).values(**values))


def insert_agent(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(agents).values(**values).returning(agents.c.id))
    return int(result.scalar_one())


_FIND_AGENT = select(agents).where(agents.c.id == bindparam("agent_id"))


def find_agent(conn: Connection, agent_id: int) -> Row[Any] | None:
    return conn.execute(_FIND_AGENT, {"agent_id": agent_id}).first()


def find_agent_by_email(conn: Connection, email: str) -> Row[Any] | None:
    return (conn.execute(select(agents).where(agents.c.email == email))).first()


def list_agents(conn: Connection, store_id: int) -> list[Row[Any]]:
    query = select(agents).where(agents.c.store_id == store_id).order_by(agents.c.id)
    return list((conn.execute(query)).all())


def update_agent(conn: Connection, agent_id: int, **values: Any) -> None:
    conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))


def insert_visitor(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(visitors).values(**values).returning(visitors.c.id))
    return int(result.scalar_one())


def find_visitor(conn: Connection, store_id: int, visitor_id: int) -> Row[Any] | None:
    result = conn.execute(
        select(visitors).where(visitors.c.id == visitor_id, visitors.c.store_id == store_id)
    )
    return result.first()


def find_visitors(conn: Connection, store_id: int, visitor_ids: list[int]) -> list[Row[Any]]:
    """The store's visitors among `visitor_ids` (one statement; a bounded list)."""
    query = select(visitors).where(visitors.c.store_id == store_id, visitors.c.id.in_(visitor_ids))
    return list(conn.execute(query))


_LOCK_VISITOR = (
    select(visitors)
    .where(visitors.c.id == bindparam("visitor_id"), visitors.c.store_id == bindparam("store_id"))
    .with_for_update()
)


def lock_visitor(conn: Connection, store_id: int, visitor_id: int) -> Row[Any] | None:
    """The visitor, its row locked until commit (on PostgreSQL; SQLite has one writer)."""
    return conn.execute(_LOCK_VISITOR, {"visitor_id": visitor_id, "store_id": store_id}).first()


def update_visitor(conn: Connection, visitor_id: int, *, now: datetime, **values: Any) -> None:
    conn.execute(
        update(visitors).where(visitors.c.id == visitor_id).values(last_seen_at=now, **values)
    )


def upsert_products(conn: Connection, store_id: int, items: list[dict[str, Any]]) -> int:
    return _upsert_data(conn, products, products.c.slug, store_id, items, "slug")


def list_products(conn: Connection, store_id: int) -> list[dict[str, Any]]:
    query = select(products.c.data).where(products.c.store_id == store_id).order_by(products.c.id)
    return [dict(row.data) for row in conn.execute(query)]


def find_product(conn: Connection, store_id: int, slug: str) -> dict[str, Any] | None:
    query = select(products.c.data).where(products.c.store_id == store_id, products.c.slug == slug)
    row = (conn.execute(query)).first()
    return None if row is None else dict(row.data)


def upsert_orders(conn: Connection, store_id: int, items: list[dict[str, Any]]) -> int:
    return _upsert_data(conn, orders, orders.c.number, store_id, items, "number")


def _upsert_data(
    conn: Connection,
    table: Table,
    key: Column[Any],
    store_id: int,
    items: list[dict[str, Any]],
    field: str,
) -> int:
    """Store each item as the `data` of the store's row with its key, new or replaced."""
    existing = {
        row[0]: row[1]
        for row in conn.execute(select(key, table.c.id).where(table.c.store_id == store_id))
    }
    for item in items:
        value = str(item[field])
        if value in existing:
            conn.execute(update(table).where(table.c.id == existing[value]).values(data=item))
        else:
            conn.execute(insert(table).values(store_id=store_id, **{key.name: value, "data": item}))
    return len(items)


def find_order(conn: Connection, store_id: int, number: str) -> dict[str, Any] | None:
    query = select(orders.c.data).where(orders.c.store_id == store_id, orders.c.number == number)
    row = conn.execute(query).first()
    return None if row is None else dict(row.data)


def find_settings_section(
    conn: Connection, store_id: int, section: str, *, lock: bool = False
) -> dict[str, Any] | None:
    """One section of a store's settings; with `lock`, the store's row stays locked
    until commit (on PostgreSQL), so two writers of sections do not lose each other's."""
    query = select(stores.c.settings).where(stores.c.id == store_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    value = (row.settings or {}).get(section) if row is not None else None
    return dict(value) if isinstance(value, dict) else None


def write_settings_section(
    conn: Connection, store_id: int, section: str, value: dict[str, Any]
) -> bool:
    """Replace one section of a store's settings; False if there is no such store."""
    row = conn.execute(select(stores.c.settings).where(stores.c.id == store_id)).first()
    if row is None:
        return False
    settings = {**(row.settings or {}), section: value}
    conn.execute(update(stores).where(stores.c.id == store_id).values(settings=settings))
    return True
