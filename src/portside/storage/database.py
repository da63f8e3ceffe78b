"""One `Database` over SQLite (one writer thread, WAL) or PostgreSQL, chosen by URL.

Queries are plain synchronous functions of a SQLAlchemy `Connection`; `read(fn)` and
`write(fn)` run them without blocking the event loop:

- SQLite: every write runs on one dedicated writer thread that owns the only writing
  connection. Writes that queue up while one commits are applied together, each in its
  own SAVEPOINT, and committed once (group commit): one failing write rolls back alone,
  and nobody hears of a result before its commit. Reads run on a small thread pool;
  WAL lets them proceed while the writer writes.
- PostgreSQL: asyncpg, with the same functions run through SQLAlchemy's `run_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from portside.errors import ServiceUnavailable

T = TypeVar("T")
Work = Callable[[Connection], T]

log = logging.getLogger(__name__)

MAX_BATCH = 128


class Database:
    def __init__(self, url: str, *, readers: int = 4) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._async: AsyncEngine | None = None
        self._sync: Engine | None = None
        self._writer: _SqliteWriter | None = None
        self._readers: ThreadPoolExecutor | None = None
        if self.is_sqlite:
            self._sync = create_engine(
                url, connect_args={"check_same_thread": False, "isolation_level": None}
            )
            event.listen(self._sync, "connect", _sqlite_pragmas)
            event.listen(self._sync, "begin", _sqlite_begin)
            self._writer = _SqliteWriter(self._sync)
            self._readers = ThreadPoolExecutor(readers, thread_name_prefix="portside-read")
        else:
            self._async = create_async_engine(
                url, pool_size=20, max_overflow=20, pool_pre_ping=True
            )

    async def read(self, work: Work[T]) -> T:
        """Run `work` on a connection that sees everything committed so far."""
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
            return await self._writer.submit(work)
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
        if self._sync is not None:
            self._sync.dispose()
        if self._async is not None:
            await self._async.dispose()


class _SqliteWriter:
    """The one thread that writes to a SQLite database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._jobs: queue.SimpleQueue[tuple[Work[Any], asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="portside-writer", daemon=True)
        self._thread.start()

    async def submit(self, work: Work[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((work, future))
        return await future

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with self._engine.connect() as conn:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                batch = [first]
                stopping = False
                while len(batch) < MAX_BATCH:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    batch.append(job)
                self._apply(conn, batch)
                if stopping:
                    return

    def _apply(self, conn: Connection, batch: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with conn.begin():
                for work, future in batch:
                    savepoint = conn.begin_nested()
                    try:
                        result = work(conn)
                    except Exception as exc:
                        savepoint.rollback()
                        outcomes.append((future, None, exc))
                    else:
                        savepoint.commit()
                        outcomes.append((future, result, None))
        except Exception as exc:  # the commit itself failed: nothing of the batch is stored
            log.exception("SQLite commit failed")
            failed = ServiceUnavailable("The database could not store this; try again.")
            failed.__cause__ = exc
            outcomes = [(future, None, failed) for _, future in batch]
        # One wake-up of the event loop per batch, not per write.
        batch[0][1].get_loop().call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


@contextlib.contextmanager
def _unavailable_on_disconnect() -> Iterator[None]:
    try:
        yield
    except (OSError, ConnectionError) as exc:
        raise ServiceUnavailable("The database is unreachable; try again shortly.") from exc
    except OperationalError as exc:
        if exc.connection_invalidated or "connect" in str(exc).lower():
            raise ServiceUnavailable("The database is unreachable; try again shortly.") from exc
        raise


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
    conn.exec_driver_sql("BEGIN")
