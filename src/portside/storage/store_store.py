"""Queries on stores, agents, visitors and products."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.storage.tables import agents, products, stores, visitors


async def insert_store(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(insert(stores).values(**values).returning(stores.c.id))
    return int(result.scalar_one())


async def find_store(conn: AsyncConnection, store_id: int) -> Row[Any] | None:
    return (await conn.execute(select(stores).where(stores.c.id == store_id))).first()


async def find_store_by_key(conn: AsyncConnection, widget_key: str) -> Row[Any] | None:
    result = await conn.execute(select(stores).where(stores.c.widget_key == widget_key))
    return result.first()


async def list_stores(conn: AsyncConnection) -> list[Row[Any]]:
    return list((await conn.execute(select(stores).order_by(stores.c.id))).all())


async def update_store(conn: AsyncConnection, store_id: int, **values: Any) -> None:
    await conn.execute(update(stores).where(stores.c.id == store_id).values(**values))


async def insert_agent(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(insert(agents).values(**values).returning(agents.c.id))
    return int(result.scalar_one())


async def find_agent(conn: AsyncConnection, agent_id: int) -> Row[Any] | None:
    return (await conn.execute(select(agents).where(agents.c.id == agent_id))).first()


async def find_agent_by_email(conn: AsyncConnection, email: str) -> Row[Any] | None:
    return (await conn.execute(select(agents).where(agents.c.email == email))).first()


async def list_agents(conn: AsyncConnection, store_id: int) -> list[Row[Any]]:
    query = select(agents).where(agents.c.store_id == store_id).order_by(agents.c.id)
    return list((await conn.execute(query)).all())


async def update_agent(conn: AsyncConnection, agent_id: int, **values: Any) -> None:
    await conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))


async def insert_visitor(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(insert(visitors).values(**values).returning(visitors.c.id))
    return int(result.scalar_one())


async def find_visitor(conn: AsyncConnection, store_id: int, visitor_id: int) -> Row[Any] | None:
    result = await conn.execute(
        select(visitors).where(visitors.c.id == visitor_id, visitors.c.store_id == store_id)
    )
    return result.first()


async def update_visitor(
    conn: AsyncConnection, visitor_id: int, *, now: datetime, **values: Any
) -> None:
    await conn.execute(
        update(visitors).where(visitors.c.id == visitor_id).values(last_seen_at=now, **values)
    )


async def upsert_products(conn: AsyncConnection, store_id: int, items: list[dict[str, Any]]) -> int:
    existing = {
        row.slug: row.id
        for row in await conn.execute(
            select(products.c.slug, products.c.id).where(products.c.store_id == store_id)
        )
    }
    for item in items:
        slug = str(item["slug"])
        if slug in existing:
            await conn.execute(
                update(products).where(products.c.id == existing[slug]).values(data=item)
            )
        else:
            await conn.execute(insert(products).values(store_id=store_id, slug=slug, data=item))
    return len(items)


async def list_products(conn: AsyncConnection, store_id: int) -> list[dict[str, Any]]:
    query = select(products.c.data).where(products.c.store_id == store_id).order_by(products.c.id)
    return [dict(row.data) for row in await conn.execute(query)]


async def find_product(conn: AsyncConnection, store_id: int, slug: str) -> dict[str, Any] | None:
    query = select(products.c.data).where(products.c.store_id == store_id, products.c.slug == slug)
    row = (await conn.execute(query)).first()
    return None if row is None else dict(row.data)
