"""Nodes started together each run the migrations: on PostgreSQL they take turns (an
advisory lock in migrations/env.py), so all succeed and the schema is made once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from portside.config import Settings
from portside.storage.migrate import head_revision
from portside.storage.tables import metadata
from tests.support.server import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PORTSIDE_TEST_POSTGRES_URL")

PROCESSES = 3


def _async_url(url: str) -> str:
    return Settings.from_env({"PORTSIDE_DATABASE_URL": url}).database_url


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """A database of its own, next to the test database (whose schema the session's
    servers use), made empty for this test and dropped after it."""
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_migrate_together"
    admin = create_async_engine(_async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            try:
                await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            except DBAPIError as exc:
                pytest.skip(f"cannot create a scratch database: {exc}")
        yield url.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def _differences(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_server_default": False})
    return list(compare_metadata(context, metadata))


async def test_migrations_started_together_all_succeed(empty_database: str) -> None:
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "portside.cli",
            "--database-url",
            empty_database,
            "migrate",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(PROCESSES)
    ]
    outputs = await asyncio.gather(*(process.communicate() for process in processes))
    for process, (output, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output.decode(errors="replace")
        assert b"The database schema is up to date." in output

    engine = create_async_engine(_async_url(empty_database))
    try:
        async with engine.connect() as conn:
            versions = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
            assert [row[0] for row in versions] == [head_revision()]
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()
