"""Coupon pools and their single-use codes.

A code is free (`issued_at` NULL), issued to a visitor, or redeemed by an order. Taking a
free code is one UPDATE that picks it, so that a code goes to one visitor only: on
PostgreSQL the pick skips rows other transactions hold (`FOR UPDATE SKIP LOCKED`); on
SQLite the UPDATE holds the database's one write lock from its first read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from portside.storage.tables import coupon_codes, coupon_pools

STATUSES = ("free", "issued", "redeemed")
_CHUNK = 500


def insert_pool(conn: Connection, *, store_id: int, now: datetime, **values: Any) -> int:
    result = conn.execute(
        insert(coupon_pools)
        .values(store_id=store_id, created_at=now, **values)
        .returning(coupon_pools.c.id)
    )
    return int(result.scalar_one())


def find_pool(conn: Connection, store_id: int, pool_id: int) -> Row[Any] | None:
    query = select(coupon_pools).where(
        coupon_pools.c.store_id == store_id, coupon_pools.c.id == pool_id
    )
    return conn.execute(query).first()


def find_pool_by_name(conn: Connection, store_id: int, name: str) -> Row[Any] | None:
    query = select(coupon_pools).where(
        coupon_pools.c.store_id == store_id, coupon_pools.c.name == name
    )
    return conn.execute(query).first()


def list_pools(conn: Connection, store_id: int) -> list[Row[Any]]:
    query = (
        select(coupon_pools)
        .where(coupon_pools.c.store_id == store_id)
        .order_by(coupon_pools.c.name, coupon_pools.c.id)
    )
    return list(conn.execute(query).all())


def update_pool(conn: Connection, store_id: int, pool_id: int, **values: Any) -> int:
    result = conn.execute(
        update(coupon_pools)
        .where(coupon_pools.c.store_id == store_id, coupon_pools.c.id == pool_id)
        .values(**values)
    )
    return int(result.rowcount or 0)


def delete_pool(conn: Connection, store_id: int, pool_id: int) -> int:
    conn.execute(
        delete(coupon_codes).where(
            coupon_codes.c.store_id == store_id, coupon_codes.c.pool_id == pool_id
        )
    )
    result = conn.execute(
        delete(coupon_pools).where(
            coupon_pools.c.store_id == store_id, coupon_pools.c.id == pool_id
        )
    )
    return int(result.rowcount or 0)


def count_codes(
    conn: Connection, store_id: int, pool_id: int | None = None
) -> dict[int, dict[str, int]]:
    """Free, issued and redeemed codes by pool (one pool, or all of the store's)."""
    c = coupon_codes.c
    query = (
        select(
            c.pool_id,
            func.sum(case((c.issued_at.is_(None), 1), else_=0)),
            func.sum(case((and_(c.issued_at.is_not(None), c.redeemed_at.is_(None)), 1), else_=0)),
            func.sum(case((c.redeemed_at.is_not(None), 1), else_=0)),
        )
        .where(c.store_id == store_id)
        .group_by(c.pool_id)
    )
    if pool_id is not None:
        query = query.where(c.pool_id == pool_id)
    return {
        int(row[0]): {"free": int(row[1]), "issued": int(row[2]), "redeemed": int(row[3])}
        for row in conn.execute(query).all()
    }


def count_pool_codes(conn: Connection, store_id: int, pool_id: int) -> int:
    query = select(func.count()).where(
        coupon_codes.c.store_id == store_id, coupon_codes.c.pool_id == pool_id
    )
    return int(conn.execute(query).scalar_one())


def find_taken_codes(conn: Connection, store_id: int, codes: Sequence[str]) -> dict[str, int]:
    """Which of `codes` the store already has, with the pool each is in."""
    taken: dict[str, int] = {}
    for start in range(0, len(codes), _CHUNK):
        query = select(coupon_codes.c.code, coupon_codes.c.pool_id).where(
            coupon_codes.c.store_id == store_id,
            coupon_codes.c.code.in_(codes[start : start + _CHUNK]),
        )
        taken.update({row.code: int(row.pool_id) for row in conn.execute(query).all()})
    return taken


def insert_codes(
    conn: Connection, *, store_id: int, pool_id: int, codes: Iterable[str], now: datetime
) -> int:
    rows = [
        {"store_id": store_id, "pool_id": pool_id, "code": code, "created_at": now}
        for code in codes
    ]
    if rows:
        conn.execute(insert(coupon_codes), rows)
    return len(rows)


def list_codes(
    conn: Connection,
    store_id: int,
    pool_id: int,
    *,
    status: str | None,
    limit: int,
    after: int | None,
) -> list[Row[Any]]:
    """Codes of a pool by id, those after the id `after`, of one status if given."""
    c = coupon_codes.c
    query = select(coupon_codes).where(c.store_id == store_id, c.pool_id == pool_id)
    if status is not None:
        query = query.where(_status_is(status))
    if after is not None:
        query = query.where(c.id > after)
    return list(conn.execute(query.order_by(c.id).limit(limit)).all())


def _status_is(status: str) -> ColumnElement[bool]:
    c = coupon_codes.c
    if status == "free":
        return c.issued_at.is_(None)
    if status == "issued":
        return and_(c.issued_at.is_not(None), c.redeemed_at.is_(None))
    return c.redeemed_at.is_not(None)


def lock_claims(conn: Connection, pool_id: int, visitor_id: int) -> None:
    """On PostgreSQL, wait for any other transaction claiming from this pool for this
    visitor: their per-visitor count is then right. (SQLite has one writer.)"""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"coupon-claim:{pool_id}:{visitor_id}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    conn.execute(select(func.pg_advisory_xact_lock(key)))


def take_free_code(
    conn: Connection,
    *,
    store_id: int,
    pool_id: int,
    visitor_id: int,
    trigger_id: int | None,
    now: datetime,
) -> Row[Any] | None:
    """Issue the pool's oldest free code to the visitor, if the pool has not expired and
    the visitor holds fewer of its codes than its per-visitor limit. One statement: on
    SQLite its first read already holds the write lock, so no other process can take
    the same code between the pick and the write."""
    pick = coupon_codes.alias("pick")
    held = coupon_codes.alias("held")
    free_code = (
        select(pick.c.id)
        .where(pick.c.store_id == store_id, pick.c.pool_id == pool_id, pick.c.issued_at.is_(None))
        .order_by(pick.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    visitor_holds = (
        select(func.count())
        .select_from(held)
        .where(held.c.pool_id == pool_id, held.c.visitor_id == visitor_id)
        .scalar_subquery()
    )
    pool_open = exists().where(
        coupon_pools.c.id == pool_id,
        coupon_pools.c.store_id == store_id,
        or_(coupon_pools.c.expires_at.is_(None), coupon_pools.c.expires_at > now),
        coupon_pools.c.per_visitor_limit > visitor_holds,
    )
    statement = (
        update(coupon_codes)
        .where(coupon_codes.c.id == free_code, coupon_codes.c.issued_at.is_(None), pool_open)
        .values(visitor_id=visitor_id, trigger_id=trigger_id, issued_at=now)
        .returning(coupon_codes.c.id, coupon_codes.c.code)
    )
    return conn.execute(statement).first()


def find_code(conn: Connection, store_id: int, code: str) -> Row[Any] | None:
    query = select(coupon_codes).where(
        coupon_codes.c.store_id == store_id, coupon_codes.c.code == code
    )
    return conn.execute(query).first()


def mark_redeemed(
    conn: Connection, code_id: int, *, order_id: int, at: datetime, issued_at: datetime
) -> int:
    """Record the order on a code no order has redeemed yet (0 if one has). A code never
    issued gets `issued_at` too, so that it is never handed out afterwards."""
    c = coupon_codes.c
    result = conn.execute(
        update(coupon_codes)
        .where(c.id == code_id, c.order_id.is_(None), c.redeemed_at.is_(None))
        .values(order_id=order_id, redeemed_at=at, issued_at=issued_at)
    )
    return int(result.rowcount or 0)
