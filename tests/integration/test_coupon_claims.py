"""claim_code and redeem_code on the server's real database (SQLite, PostgreSQL): a code
goes to one visitor once, within the pool's expiry and per-visitor limit; an order
redeems it once, and the same order again changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from portside.services.context import Services
from portside.services.coupons import IssuedCoupon, claim_code, redeem_code
from portside.storage.tables import coupon_codes
from tests.support.coupons import insert_order, insert_pool, insert_trigger, insert_visitors
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer


def _claim(
    conn: Connection,
    store_id: int,
    pool_id: int,
    visitor_id: int,
    now: datetime,
    trigger_id: int | None = None,
) -> IssuedCoupon | None:
    return claim_code(
        conn,
        store_id=store_id,
        pool_id=pool_id,
        visitor_id=visitor_id,
        trigger_id=trigger_id,
        now=now,
    )


async def _codes(svc: Services, pool_id: int) -> list[Any]:
    query = (
        select(coupon_codes).where(coupon_codes.c.pool_id == pool_id).order_by(coupon_codes.c.id)
    )
    return list(await svc.db.read(lambda conn: conn.execute(query).all()))


async def test_each_code_goes_to_one_visitor_until_the_pool_is_empty(
    svc: Services, store: StoreFixture
) -> None:
    now = svc.clock.now()

    def setup(conn: Connection) -> tuple[int, int, list[int]]:
        pool = insert_pool(conn, store.id, now, codes=["AAA-1", "AAA-2", "AAA-3"])
        return pool, insert_trigger(conn, store.id, now), insert_visitors(conn, store.id, now, 4)

    pool_id, trigger_id, visitors = await svc.db.write(setup)
    issued = await svc.db.write(
        lambda conn: [_claim(conn, store.id, pool_id, v, now, trigger_id) for v in visitors]
    )
    assert [coupon.code if coupon else None for coupon in issued] == [
        "AAA-1",
        "AAA-2",
        "AAA-3",
        None,
    ]
    first = issued[0]
    assert first is not None
    assert (first.pool_id, first.expires_at) == (pool_id, None)
    assert first.description == {"en": "10% off", "es": "10 % de descuento"}
    rows = await _codes(svc, pool_id)
    assert [(row.id, row.visitor_id, row.trigger_id) for row in rows] == [
        (coupon.code_id, visitor, trigger_id)
        for coupon, visitor in zip(issued[:3], visitors, strict=False)
        if coupon is not None
    ]
    assert all(row.issued_at is not None and row.order_id is None for row in rows)


async def test_a_visitor_gets_at_most_the_pools_per_visitor_limit(
    svc: Services, store: StoreFixture
) -> None:
    now = svc.clock.now()

    def setup(conn: Connection) -> tuple[int, int, list[int]]:
        one = insert_pool(conn, store.id, now, codes=["ONE-1", "ONE-2"])
        two = insert_pool(
            conn, store.id, now, codes=["TWO-1", "TWO-2", "TWO-3"], per_visitor_limit=2
        )
        return one, two, insert_visitors(conn, store.id, now, 1)

    one, two, (visitor,) = await svc.db.write(setup)
    got = await svc.db.write(
        lambda conn: [
            _claim(conn, store.id, pool, visitor, now) for pool in (one, one, two, two, two)
        ]
    )
    assert [coupon.code if coupon else None for coupon in got] == [
        "ONE-1",
        None,
        "TWO-1",
        "TWO-2",
        None,
    ]


async def test_nothing_from_an_expired_unknown_or_other_stores_pool(
    svc: Services, store: StoreFixture, server: LiveServer
) -> None:
    now = svc.clock.now()
    other = await make_store(svc, origin=server.origin, agents=1)

    def setup(conn: Connection) -> tuple[int, int, int, list[int]]:
        expired = insert_pool(conn, store.id, now, codes=["OLD-1"], expires_at=now)
        later = insert_pool(
            conn, store.id, now, codes=["NEW-1"], expires_at=now + timedelta(days=1)
        )
        theirs = insert_pool(conn, other.id, now, codes=["THEIRS-1"])
        return expired, later, theirs, insert_visitors(conn, store.id, now, 1)

    expired, later, theirs, (visitor,) = await svc.db.write(setup)
    got = await svc.db.write(
        lambda conn: [
            _claim(conn, store.id, pool, visitor, now) for pool in (expired, theirs, 10**9, later)
        ]
    )
    assert got[:3] == [None, None, None]
    assert got[3] is not None
    assert got[3].code == "NEW-1"
    assert got[3].expires_at == now + timedelta(days=1)


async def test_an_order_redeems_a_code_once_and_again_changes_nothing(
    svc: Services, store: StoreFixture, server: LiveServer
) -> None:
    now = svc.clock.now()
    later = now + timedelta(minutes=5)
    other = await make_store(svc, origin=server.origin, agents=1)

    def setup(conn: Connection) -> tuple[int, list[int], int, int, int]:
        pool = insert_pool(conn, store.id, now, codes=["SAVE-10", "SAVE-20"])
        visitors = insert_visitors(conn, store.id, now, 2)
        first, second = insert_order(conn, store.id, now), insert_order(conn, store.id, now)
        return pool, visitors, first, second, insert_order(conn, other.id, now)

    pool_id, visitors, order, second_order, their_order = await svc.db.write(setup)
    issued = await svc.db.write(lambda conn: _claim(conn, store.id, pool_id, visitors[0], now))
    assert issued is not None

    def redeem(code: str, order_id: int, store_id: int = store.id) -> Any:
        return svc.db.write(
            lambda conn: redeem_code(
                conn, store_id=store_id, code=code, order_id=order_id, at=later
            )
        )

    # Typed by the shopper: spaces and lower case are fine.
    assert await redeem(" save-10 ", order) == issued.code_id
    assert await redeem("SAVE-10", order) == issued.code_id
    # Another order with the same code: the first keeps it.
    assert await redeem("SAVE-10", second_order) == issued.code_id
    assert await redeem("NOPE-99", order) is None
    assert await redeem("x", order) is None
    assert await redeem("SAVE-20", their_order, other.id) is None
    row = (await _codes(svc, pool_id))[0]
    assert (row.order_id, row.redeemed_at, row.visitor_id) == (order, later, visitors[0])

    # A code given out elsewhere (an email) and redeemed is never handed out afterwards.
    assert await redeem("save-20", second_order) is not None
    assert (
        await svc.db.write(lambda conn: _claim(conn, store.id, pool_id, visitors[1], later)) is None
    )
    free = (await _codes(svc, pool_id))[1]
    assert (free.order_id, free.visitor_id, free.issued_at) == (second_order, None, later)
