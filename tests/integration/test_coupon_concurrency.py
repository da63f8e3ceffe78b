"""Coupon issuance from two OS processes at once, on the SQLite file and on PostgreSQL:
each claims codes for the same visitors from the same small pool. No code may go out
twice, every code that could be issued is, and no visitor gets more than the pool's
per-visitor limit."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import Connection, select

from portside.services.context import Services
from portside.storage.tables import coupon_codes
from tests.support.coupons import insert_pool, insert_visitors
from tests.support.factories import StoreFixture
from tests.support.racing import race

VISITORS = 25
LIMIT = 2


def _run_two_claimers(
    url: str, store_id: int, pool_id: int, visitors: list[int]
) -> list[list[int | None]]:
    """Start two claimer processes, let them go together, and gather what each got."""
    # Both ask twice for every visitor, in the same order: they claim for the same
    # visitor at the same moment as often as they can.
    claims = visitors * LIMIT
    random.Random(4).shuffle(claims)
    command = ["tests.support.coupon_claimer", url, str(store_id), str(pool_id)]
    outputs = race([command + [str(v) for v in claims] for _ in range(2)])
    return [result for output in outputs for result in output]


@pytest.mark.parametrize("pool_size", [30, 80])
async def test_two_processes_never_hand_out_a_code_twice(
    svc: Services, store: StoreFixture, pool_size: int
) -> None:
    now = svc.clock.now()

    def setup(conn: Connection) -> tuple[int, list[int]]:
        codes = [f"DUO-{n:04d}" for n in range(pool_size)]
        pool = insert_pool(conn, store.id, now, codes=codes, per_visitor_limit=LIMIT)
        return pool, insert_visitors(conn, store.id, now, VISITORS)

    pool_id, visitors = await svc.db.write(setup)
    results = _run_two_claimers(svc.db.url, store.id, pool_id, visitors)

    assert len(results) == 2 * VISITORS * LIMIT
    granted = [(visitor, code) for visitor, code in results if code is not None]
    # Every claim that could be met was: the pool ran out, or every visitor has the limit.
    expected = min(pool_size, VISITORS * LIMIT)
    assert len(granted) == expected
    assert len({code for _, code in granted}) == expected
    assert max(Counter(visitor for visitor, _ in granted).values()) <= LIMIT

    query = select(coupon_codes).where(coupon_codes.c.pool_id == pool_id)
    rows = await svc.db.read(lambda conn: conn.execute(query).all())
    issued = {row.id: row.visitor_id for row in rows if row.issued_at is not None}
    # What the database says agrees with what each process was told.
    assert issued == {code: visitor for visitor, code in granted}
    assert max(Counter(issued.values()).values()) <= LIMIT
