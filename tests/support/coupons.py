"""Coupon pools, visitors and orders written straight into a test server's database."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, insert

from portside.storage import coupon_store, store_store
from portside.storage.tables import orders, triggers


def insert_pool(
    conn: Connection,
    store_id: int,
    now: datetime,
    *,
    codes: list[str] | None = None,
    per_visitor_limit: int = 1,
    expires_at: datetime | None = None,
    name: str | None = None,
) -> int:
    pool_id = coupon_store.insert_pool(
        conn,
        store_id=store_id,
        now=now,
        name=name or f"pool-{secrets.token_hex(4)}",
        description={"en": "10% off", "es": "10 % de descuento"},
        pattern=None,
        expires_at=expires_at,
        per_visitor_limit=per_visitor_limit,
    )
    coupon_store.insert_codes(conn, store_id=store_id, pool_id=pool_id, codes=codes or [], now=now)
    return pool_id


def insert_visitors(conn: Connection, store_id: int, now: datetime, count: int) -> list[int]:
    return [
        store_store.insert_visitor(conn, store_id=store_id, created_at=now, last_seen_at=now)
        for _ in range(count)
    ]


def insert_order(conn: Connection, store_id: int, now: datetime) -> int:
    number = f"T{secrets.token_hex(4)}"
    result = conn.execute(
        insert(orders)
        .values(store_id=store_id, number=number, data={}, source="api", placed_at=now)
        .returning(orders.c.id)
    )
    return int(result.scalar_one())


def insert_trigger(conn: Connection, store_id: int, now: datetime) -> int:
    result = conn.execute(
        insert(triggers)
        .values(
            store_id=store_id,
            name=f"rule-{secrets.token_hex(4)}",
            conditions={"match": "all", "conditions": []},
            actions={},
            created_at=now,
            updated_at=now,
        )
        .returning(triggers.c.id)
    )
    return int(result.scalar_one())
