"""One OS process taking job leases, for the test of two nodes taking them at once.

    python -m tests.support.lease_taker DATABASE_URL OWNER NAME...

Opens the database as the server does, says "ready", waits for a line on stdin (so
that two of these start together), takes each lease named, in order, each in its own
write transaction, and prints one JSON line: [[name, true if taken], ...].
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta

from portside.clock import SystemClock
from portside.storage import lease_store
from portside.storage.database import Database
from tests.support.racing import ready_then_go


async def take_all(url: str, owner: str, names: list[str]) -> None:
    db = Database(url)
    clock = SystemClock()
    try:
        await db.ping()
        await ready_then_go()
        results: list[tuple[str, bool]] = []
        for name in names:
            now = clock.now()
            until = now + timedelta(seconds=60)
            taken = await db.write(
                lambda conn, name=name, now=now, until=until: lease_store.take_lease(
                    conn, name, owner, now, until
                )
            )
            results.append((name, taken))
            await asyncio.sleep(0)
        print(json.dumps(results), flush=True)
    finally:
        await db.close()


if __name__ == "__main__":
    url, owner, *lease_names = sys.argv[1:]
    asyncio.run(take_all(url, owner, lease_names))
