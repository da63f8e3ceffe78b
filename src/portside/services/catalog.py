"""Reading a store and its catalogue (its agents: services/agents.py)."""

from __future__ import annotations

from typing import Any

from portside.errors import NotFound
from portside.services.context import Services
from portside.storage import store_store


async def find_store_by_key(svc: Services, widget_key: str) -> Any:
    return await svc.db.read(lambda conn: store_store.find_store_by_key(conn, widget_key))


async def get_store(svc: Services, store_id: int) -> Any:
    row = await svc.db.read(lambda conn: store_store.find_store(conn, store_id))
    if row is None:
        raise NotFound("This store does not exist.")
    return row


async def list_products(svc: Services, store_id: int) -> list[dict[str, Any]]:
    return await svc.db.read(lambda conn: store_store.list_products(conn, store_id))


async def get_product(svc: Services, store_id: int, slug: str) -> dict[str, Any]:
    product = await svc.db.read(lambda conn: store_store.find_product(conn, store_id, slug))
    if product is None:
        raise NotFound(f"There is no product {slug!r}.")
    return product


async def find_agent_by_email(svc: Services, email: str) -> Any:
    return await svc.db.read(lambda conn: store_store.find_agent_by_email(conn, email))
