"""Whether this node should be sent new clients: the answer `/readyz` gives a load balancer.

`/healthz` says only that the process runs (a balancer or supervisor that restarts dead
processes asks it). `/readyz` says whether the node can serve: its database answers, the
schema is one this code runs on, and it is not draining. Each check is named in the
answer, so an operator reading it sees which one failed.

Redis is reported but never makes a node unready: while it is down a node still serves
its own clients from the database (the bus catches up when it returns), and taking every
node out of the balancer because their shared Redis blinked would stop the service.

Draining: a node told to stop (SIGTERM, `serving.py`) first answers 503 here for
`drain_s` seconds, so the balancer stops sending it new clients, then asks the clients it
has to reconnect (close code 1012; they resume from their last `seq` on another node).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from alembic.runtime.migration import MigrationContext

from portside.storage.database import Database
from portside.storage.migrate import SchemaRevisions

log = logging.getLogger(__name__)

# A balancer probes every few seconds; an answer that waits longer than this is a no.
DATABASE_TIMEOUT_S = 2.0
BUS_TIMEOUT_S = 1.0
# How long the clients' sockets get to close at the end of a drain.
CLOSE_WAIT_S = 2.0

Probe = Callable[[], Awaitable[None]]


class Drain:
    """The node is leaving: from `begin` on, `/readyz` answers 503."""

    def __init__(self) -> None:
        self.draining = False
        self._close: Probe | None = None
        self._open_count: Callable[[], int] = lambda: 0

    def begin(self) -> None:
        self.draining = True

    def closes_with(self, close: Probe, open_count: Callable[[], int]) -> None:
        """How the drain ends: `close` asks every client to reconnect elsewhere, and
        `open_count` says how many are still connected."""
        self._close, self._open_count = close, open_count

    async def finish(self) -> None:
        """Ask every client to reconnect, and give their sockets a moment to close."""
        if self._close is None:
            return
        await self._close()
        deadline = time.monotonic() + CLOSE_WAIT_S
        # Polled: nothing signals the last socket gone, and this runs once, for 2 s at most.
        while self._open_count() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@dataclass(frozen=True)
class Answer:
    ready: bool
    body: dict[str, Any] = field(default_factory=dict)


class Readiness:
    def __init__(self, db: Database, drain: Drain, bus_probe: Probe | None = None) -> None:
        self._db = db
        self._drain = drain
        self._bus_probe = bus_probe
        self._revisions = SchemaRevisions.of_code()

    async def check(self) -> Answer:
        database, bus = await asyncio.gather(self._database(), self._bus())
        schema = database.pop("schema", None)
        checks: dict[str, dict[str, Any]] = {"database": database}
        if schema is not None:
            checks["schema"] = schema
        checks["bus"] = bus
        checks["draining"] = (
            {"status": "draining", "message": "This node is stopping."}
            if self._drain.draining
            else {"status": "ok"}
        )
        failed = [c["message"] for c in checks.values() if c["status"] in ("failed", "draining")]
        if not failed:
            return Answer(True, {"status": "ready", "checks": checks})
        status = "draining" if self._drain.draining else "not_ready"
        return Answer(
            False,
            {
                "status": status,
                "checks": checks,
                "error": {"code": status, "message": " ".join(failed)},
            },
        )

    async def _database(self) -> dict[str, Any]:
        """One cheap query: the schema's revision (also proves the database answers)."""
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_S):
                revision = await self._db.read(
                    lambda conn: MigrationContext.configure(conn).get_current_revision()
                )
        except TimeoutError:
            return _failed(f"The database did not answer within {DATABASE_TIMEOUT_S:g} s.")
        except Exception as exc:  # any failure to reach it is the answer
            log.info("readiness: the database is unreachable: %s", exc)
            return _failed(f"The database is unreachable ({type(exc).__name__}).")
        return {"status": "ok", "schema": self._schema(revision)}

    def _schema(self, revision: str | None) -> dict[str, Any]:
        head = self._revisions.head
        found: dict[str, Any] = {"revision": revision, "code": head}
        match self._revisions.state(revision):
            case "current":
                return {"status": "ok", **found}
            case "ahead":
                # A newer release migrated the database before its rolling restart; this
                # node keeps serving until it is replaced.
                return {"status": "ok", "state": "ahead", **found}
            case "missing":
                message = "The database has no schema: run `portside migrate`."
            case "behind":
                message = (
                    f"The schema is at revision {revision}, older than this code's {head}: "
                    "run `portside migrate`."
                )
        return {"status": "failed", "message": message, **found}

    async def _bus(self) -> dict[str, Any]:
        if self._bus_probe is None:
            return {"status": "ok", "kind": "memory"}
        try:
            async with asyncio.timeout(BUS_TIMEOUT_S):
                await self._bus_probe()
        except Exception as exc:  # any failure to reach it is the answer
            return {
                "status": "degraded",
                "kind": "redis",
                "message": "Redis is unreachable: this node serves its own clients, and "
                f"live updates between nodes wait for Redis ({type(exc).__name__}).",
            }
        return {"status": "ok", "kind": "redis"}


def _failed(message: str) -> dict[str, Any]:
    return {"status": "failed", "message": message}
