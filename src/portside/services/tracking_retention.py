"""Keeping shopping-behaviour events no longer than each store's `retention_days`
(services/tracking_settings.py): a sweep once at start and then every hour.

With several nodes, the one holding the lease "tracking-retention" sweeps
(services/leases.py). Twice would be harmless (a delete of what another node already
deleted deletes nothing), but it is wasted work on the database. Deletes go in bounded
batches, each its own short transaction, so a store with millions of old events never
holds the database (on SQLite, its one writer) for long, and other writes get their turn
in between; a sweep stopped between two (the lease lost) is finished by the next.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial

from sqlalchemy import Connection

from portside.services.context import Services
from portside.services.leases import LeasedJob
from portside.services.tracking_settings import read_tracking
from portside.storage import store_store, tracking_store

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 3600.0
LEASE = "tracking-retention"
BATCH = 1000


async def do_sweep_events(svc: Services, *, batch: int = BATCH) -> int:
    """Delete every store's events older than its retention; how many were deleted."""
    now = svc.clock.now()

    def stores(conn: Connection) -> list[tuple[int, int]]:
        return [
            (int(row.id), read_tracking(row.settings).retention_days)
            for row in store_store.list_stores(conn)
        ]

    deleted = 0
    for store_id, days in await svc.db.read(stores):
        cutoff = now - timedelta(days=days)
        while True:
            gone = await svc.db.write(
                partial(
                    tracking_store.delete_events_before,
                    store_id=store_id,
                    cutoff=cutoff,
                    limit=batch,
                )
            )
            deleted += gone
            if gone < batch:
                break
            await asyncio.sleep(0)  # let other work between batches
    return deleted


class EventRetention:
    """The periodic sweep, started and stopped with the app, on the lease's holder."""

    def __init__(self, svc: Services, *, every_s: float = SWEEP_EVERY_S) -> None:
        self.svc = svc
        self.job = LeasedJob(svc, LEASE, self._sweep, every_s=every_s)

    def start(self) -> None:
        self.job.start()

    async def close(self) -> None:
        await self.job.close()

    async def _sweep(self) -> None:
        deleted = await do_sweep_events(self.svc)
        if deleted:
            log.info("retention: deleted %d visitor events", deleted)
