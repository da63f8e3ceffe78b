"""One OS process claiming coupon codes, for the two-process test of issuance.

    python -m tests.support.coupon_claimer DATABASE_URL STORE_ID POOL_ID VISITOR_ID...

Opens the database as the server does, says "ready", waits for a line on stdin (so that
two of these start claiming together), claims one code for each visitor given, in order,
each in its own write transaction, and prints one JSON line: [[visitor_id, code_id or
null], ...].
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys

from portside.clock import SystemClock
from portside.services.coupons import claim_code
from portside.storage.database import Database
from tests.support.racing import ready_then_go


async def claim_all(url: str, store_id: int, pool_id: int, visitors: list[int]) -> None:
    db = Database(url)
    clock = SystemClock()
    try:
        await db.ping()
        await ready_then_go()
        results: list[tuple[int, int | None]] = []
        for visitor_id in visitors:
            claim = functools.partial(
                claim_code,
                store_id=store_id,
                pool_id=pool_id,
                visitor_id=visitor_id,
                trigger_id=None,
                now=clock.now(),
            )
            coupon = await db.write(claim)
            results.append((visitor_id, coupon.code_id if coupon else None))
            # Hand the loop over between claims, as a server does between requests.
            await asyncio.sleep(0)
        print(json.dumps(results), flush=True)
    finally:
        await db.close()


if __name__ == "__main__":
    url, store, pool, *visitor_ids = sys.argv[1:]
    asyncio.run(claim_all(url, int(store), int(pool), [int(v) for v in visitor_ids]))
