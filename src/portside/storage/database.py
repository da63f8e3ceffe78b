"""One `Database` over SQLite (one writer thread, WAL) or PostgreSQL, chosen by URL.

Queries are plain synchronous functions of a SQLAlchemy `Connection`; `read(fn)` and
`write(fn)` run them without blocking the event loop:

- SQLite: one connection writes, on the event loop itself (see `_SqliteWriter`), so
  writes are serialised and a result is seen only after its commit. Reads run on a
  small thread pool; WAL lets them proceed alongside the writes. An `urgent` read (a
  few rows a person is waiting for) runs on the loop too, on a connection of its own.
- PostgreSQL: asyncpg, with the same functions run through SQLAlchemy's `run_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from portside.errors import ServiceUnavailable

T = TypeVar("T")
Work = Callable[[Connection], T]

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0
# What a client is told to wait before it sends again while the database is unreachable.
RETRY_AFTER_S = 2.0


class Database:
    def __init__(self, url: str, *, readers: int = 4, pool: int = 20) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._async: AsyncEngine | None = None
        self._sync: Engine | None = None
        self._writer: _SqliteWriter | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._urgent: Connection | None = None
        if self.is_sqlite:
            self._sync = create_engine(
                url, connect_args={"check_same_thread": False, "isolation_level": None}
            )
            event.listen(self._sync, "connect", _sqlite_pragmas)
            event.listen(self._sync, "begin", _sqlite_begin)
            self._writer = _SqliteWriter(self._sync)
            self._readers = ThreadPoolExecutor(readers, thread_name_prefix="portside-read")
            # Small reads a person is waiting on (a conversation's history sent to the
            # agent just given it) run on the event loop, like the writes: handed to a
            # thread, the read itself takes a millisecond but its answer then waits its
            # turn behind everything else the loop has to do (measured: 25 ms at p50
            # with the AI agent busy).
            self._urgent = self._sync.connect()
        else:
            # No pre-ping: it cost a round trip on every checkout (3.5 % of a busy
            # node's CPU). After a PostgreSQL restart the first statement on a stale
            # connection fails instead; SQLAlchemy then drops the whole pool, and that
            # one request gets `unavailable` and is retried like any other.
            self._async = create_async_engine(url, pool_size=pool, max_overflow=pool)

    async def read(self, work: Work[T], *, urgent: bool = False) -> T:
        """Run `work` on a connection that sees everything committed so far; `urgent`
        for what a person is waiting to be sent."""
        if urgent and self._urgent is not None:
            with _unavailable_on_disconnect(), self._urgent.begin() as transaction:
                try:
                    return work(self._urgent)
                finally:
                    transaction.rollback()
        if self._readers is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._readers, self._read_sync, work)
        assert self._async is not None
        with _unavailable_on_disconnect():
            async with self._async.connect() as conn:
                return await conn.run_sync(work)

    async def write(self, work: Work[T]) -> T:
        """Run `work` in a transaction; its result comes back only once it is committed."""
        if self._writer is not None:
            with _unavailable_on_disconnect():
                return self._writer.write(work)
        assert self._async is not None
        with _unavailable_on_disconnect():
            async with self._async.begin() as conn:
                return await conn.run_sync(work)

    def _read_sync(self, work: Work[T]) -> T:
        assert self._sync is not None
        with self._sync.connect() as conn:
            try:
                return work(conn)
            finally:
                conn.rollback()

    async def ping(self) -> bool:
        try:
            await self.read(lambda conn: conn.exec_driver_sql("SELECT 1").scalar())
        except (OSError, DBAPIError, ServiceUnavailable):
            return False
        return True

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.stop)
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        if self._urgent is not None:
            self._urgent.close()
        if self._sync is not None:
            self._sync.dispose()
        if self._async is not None:
            await self._async.dispose()


class _SqliteWriter:
    """The one connection that writes to a SQLite database, used on the event loop.

    A write is a few statements on a local file, a fraction of a millisecond: running it
    right on the event loop costs less than handing it to a thread (measured: the hand-off
    and the GIL traffic it causes cost more CPU than the write). Writes are therefore
    serialised by construction. What could take long, moving the WAL back into the
    database file (a checkpoint), is done by a background thread instead.
    """

    def __init__(self, engine: Engine) -> None:
        self._conn = engine.connect()
        # Its transactions take the write lock when they begin (waiting busy_timeout
        # for it): one that read first and then wrote would fail at once, without
        # waiting, if another process (a CLI command, a test) had written meanwhile.
        self._conn.info[_IMMEDIATE] = True
        self._conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        self._conn.commit()
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, args=(engine,), name="portside-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def write(self, work: Work[T]) -> T:
        with self._conn.begin():
            return work(self._conn)

    def _checkpoint_loop(self, engine: Engine) -> None:
        while not self._stop.wait(CHECKPOINT_EVERY_S):
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:
                log.exception("SQLite checkpoint failed")

    def stop(self) -> None:
        self._stop.set()
        self._checkpointer.join(timeout=10)
        self._conn.close()


# PostgreSQL refusing a connection for want of room, not for anything in the request:
# too_many_connections (max_connections, or a role's or database's CONNECTION LIMIT),
# configuration_limit_exceeded, cannot_connect_now (starting up, shutting down). Seen
# when several nodes' pools together outgrow max_connections during a reconnect storm.
_BUSY_SQLSTATES = frozenset({"53300", "53400", "57P03"})


@contextlib.contextmanager
def _unavailable_on_disconnect() -> Iterator[None]:
    try:
        yield
    except (OSError, ConnectionError) as exc:
        raise _unreachable() from exc
    except PoolTimeout as exc:
        # Every connection of this node's pool stayed busy for pool_timeout (30 s).
        raise _busy() from exc
    except DBAPIError as exc:
        if _sqlstate(exc) in _BUSY_SQLSTATES:
            raise _busy() from exc
        if exc.connection_invalidated or (
            isinstance(exc, OperationalError) and "connect" in str(exc).lower()
        ):
            raise _unreachable() from exc
        raise


def _sqlstate(exc: DBAPIError) -> str | None:
    """The PostgreSQL error code under SQLAlchemy's wrapper (asyncpg: `sqlstate`)."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code if isinstance(code, str) else None


def _busy() -> ServiceUnavailable:
    # Refused before anything ran: the same request sent again is safe.
    return ServiceUnavailable(
        "The database has no connection free; try again shortly.", retry_after=RETRY_AFTER_S
    )


def _unreachable() -> ServiceUnavailable:
    # A transaction whose connection drops is rolled back, so the same request sent
    # again is safe (and a commit cut off on its way back is deduplicated by client_id).
    return ServiceUnavailable(
        "The database is unreachable; try again shortly.", retry_after=RETRY_AFTER_S
    )


_IMMEDIATE = "portside_begin_immediate"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # The driver is in autocommit mode (isolation_level=None) so that SQLAlchemy, not
    # pysqlite, decides where transactions and SAVEPOINTs begin.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_IMMEDIATE) else "BEGIN")
