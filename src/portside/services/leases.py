"""Work one node of several does at a time, under a lease (storage/lease_store.py).

Every node runs the same background jobs; those that must be done once for the whole
cluster (sweeps, recovery of what a dead node left) first take the job's lease, and only
the node holding it works. The holder renews it every round, `ttl_s` ahead; a node that
dies or loses the database stops renewing, and another takes the lease once it lapses,
within `ttl_s`. A node that stops cleanly lets go at once.

Nodes are a cluster when they share the Redis bus. A node on the in-process bus is on
its own, even when another process uses the same database (they would not hear each
other's events): it holds every lease itself, without asking the database.

Leases are timed by the nodes' clocks (Services.clock): keep them in step (NTP), as any
cluster does; a skew eats into the TTL, which is several rounds long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection

from portside.services.context import Services
from portside.storage import lease_store

log = logging.getLogger(__name__)

# The longest round a job's lease is renewed at, whatever its period.
MAX_RENEW_S = 30.0
# A lease lasts this many rounds past its last renewal.
ROUNDS_PER_TTL = 3


async def do_take_lease(svc: Services, name: str, owner: str, ttl_s: float) -> bool:
    """Take or renew the lease `name` for `owner`, `ttl_s` from now: whether `owner`
    holds it. While another node holds it, this is a read: nothing waits for the writer."""
    now = svc.clock.now()
    held = await svc.db.read(lambda conn: lease_store.find_lease(conn, name))
    if held is not None and held.owner != owner and held.until > now:
        return False
    until = now + timedelta(seconds=ttl_s)

    def take(conn: Connection) -> bool:
        return lease_store.take_lease(conn, name, owner, now, until)

    return await svc.db.write(take)


async def do_release_lease(svc: Services, name: str, owner: str) -> bool:
    """Let go of a lease `owner` holds; False if it did not hold it."""
    now = svc.clock.now()
    return await svc.db.write(lambda conn: lease_store.release_lease(conn, name, owner, now))


async def list_leases(svc: Services) -> list[dict[str, str | datetime]]:
    """Every job's lease: who holds it (or held it last) and until when."""
    rows = await svc.db.read(lease_store.list_leases)
    return [{"name": row.name, "owner": row.owner, "until": row.until} for row in rows]


class Lease:
    """One job's lease as this node sees it. `term` counts the times this node took it
    (a renewal is the same term): work that remembers what it did in a term starts
    afresh in a new one, since another node may have worked in between. `shared`:
    whether other nodes may want it (by default, with the Redis bus)."""

    def __init__(
        self, svc: Services, name: str, ttl_s: float, *, shared: bool | None = None
    ) -> None:
        self.svc = svc
        self.name = name
        self.ttl_s = ttl_s
        self.shared = bool(svc.settings.redis_url) if shared is None else shared
        self.held = False
        self.term = 0

    async def hold(self) -> bool:
        """Take or renew the lease: whether this node holds it for `ttl_s` from now. A
        database that cannot be reached counts as not holding it."""
        if not self.shared:
            if not self.held:
                self.held, self.term = True, self.term + 1
            return True
        try:
            held = await do_take_lease(self.svc, self.name, self.svc.node_id, self.ttl_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.held:
                log.warning("lease %s: could not renew (%s); stopping its work", self.name, exc)
            held = False
        if held and not self.held:
            self.term += 1
            log.info("lease %s: taken by this node (%s)", self.name, self.svc.node_id)
        elif self.held and not held:
            log.info("lease %s: no longer held by this node", self.name)
        self.held = held
        return held

    async def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if not self.shared:
            return
        try:
            await do_release_lease(self.svc, self.name, self.svc.node_id)
        except Exception as exc:  # it lapses by itself
            log.warning("lease %s: could not let go (%s); it lapses by itself", self.name, exc)


Work = Callable[[], Awaitable[object]]


class LeasedJob:
    """Run `work` on whichever node holds the lease `name`: at once when this node takes
    the lease, then every `every_s` while it keeps it.

    The lease is renewed every `renew_s` (`every_s`, at most MAX_RENEW_S) and lasts
    `ttl_s` (three renewals), so a long `work` keeps it, and an hourly job still passes
    to another node within a minute and a half of its holder's death. Work under way
    when the lease is lost is cancelled: a job must be safe to stop between any two
    transactions, as it must be safe to do twice.
    """

    def __init__(
        self,
        svc: Services,
        name: str,
        work: Work,
        *,
        every_s: float,
        renew_s: float | None = None,
        ttl_s: float | None = None,
        shared: bool | None = None,
    ) -> None:
        self.svc = svc
        self.work = work
        self.every_s = every_s
        self.renew_s = renew_s if renew_s is not None else min(every_s, MAX_RENEW_S)
        ttl_s = ttl_s if ttl_s is not None else ROUNDS_PER_TTL * self.renew_s
        self.lease = Lease(svc, name, ttl_s, shared=shared)
        self._loop: asyncio.Task[None] | None = None
        self._working: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.lease.name

    def start(self) -> None:
        self._loop = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        for task in (self._loop, self._working):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._loop = self._working = None
        await self.lease.release()

    async def _run(self) -> None:
        clock = self.svc.clock
        due = 0.0
        while True:
            term = self.lease.term
            if await self.lease.hold():
                if self.lease.term != term:
                    due = clock.monotonic()  # newly taken: at once
                if self._working is None and clock.monotonic() >= due:
                    due = clock.monotonic() + self.every_s
                    self._working = asyncio.get_running_loop().create_task(self._work())
            elif self._working is not None:
                self._working.cancel()
                self._working = None
            await asyncio.sleep(self.renew_s)

    async def _work(self) -> None:
        try:
            await self.work()
        except asyncio.CancelledError:
            raise
        except Exception:
            # A database that is away now may be back by the next round.
            log.exception("job %s failed; trying again in %s s", self.name, self.every_s)
        finally:
            if self._working is asyncio.current_task():
                self._working = None
