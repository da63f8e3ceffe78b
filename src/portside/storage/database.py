"""One `Database` over SQLite (one writer, WAL) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from portside.errors import ServiceUnavailable


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        # SQLite has one writer at a time; queueing writers here instead of in SQLite's
        # busy loop keeps latency flat and avoids "database is locked" under load.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block ends, or rolls back on error."""
        if self._write_lock is None:
            async with _unavailable_on_disconnect(), self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with _unavailable_on_disconnect(), self.engine.connect() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (OSError, DBAPIError):
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()


@contextlib.asynccontextmanager
async def _unavailable_on_disconnect() -> AsyncIterator[None]:
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
