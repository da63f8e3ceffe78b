"""A PostgreSQL that refuses connections (down, restarting) makes every read and write
fail with `unavailable` and a time to try again, never with a fault of ours."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import make_url, text

from portside.errors import ServiceUnavailable
from portside.storage.database import Database
from tests.support.server import POSTGRES_URL, free_port


async def test_reads_and_writes_on_an_unreachable_database_are_retryable() -> None:
    # A port nothing listens on: the connection is refused, as while PostgreSQL restarts.
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/portside")
    try:
        for attempt in (db.read, db.write):
            with pytest.raises(ServiceUnavailable) as refused:
                await attempt(lambda conn: conn.execute(text("SELECT 1")).scalar())
            assert refused.value.code == "unavailable"
            assert refused.value.retry_after is not None and refused.value.retry_after > 0
        assert await db.ping() is False
    finally:
        await db.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PORTSIDE_TEST_POSTGRES_URL")
async def test_a_database_with_no_connection_free_is_retryable_too() -> None:
    # A role allowed no connection gets PostgreSQL's too_many_connections (53300), as
    # when the nodes' pools together outgrow max_connections in a reconnect storm.
    admin = Database(_asyncpg(POSTGRES_URL))
    try:
        await admin.write(
            lambda conn: conn.execute(
                text(
                    "DO $$ BEGIN CREATE ROLE portside_test_no_room LOGIN CONNECTION LIMIT 0;"
                    " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
            )
        )
    finally:
        await admin.close()
    full = make_url(_asyncpg(POSTGRES_URL)).set(username="portside_test_no_room", password=None)
    db = Database(full.render_as_string(hide_password=False))
    try:
        for attempt in (db.read, db.write):
            with pytest.raises(ServiceUnavailable) as refused:
                await attempt(lambda conn: conn.execute(text("SELECT 1")).scalar())
            assert refused.value.code == "unavailable"
            assert "no connection free" in refused.value.message
            assert refused.value.retry_after is not None and refused.value.retry_after > 0
    finally:
        await db.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PORTSIDE_TEST_POSTGRES_URL")
async def test_a_connection_lost_in_a_restart_fails_one_request_and_the_pool_recovers() -> None:
    # Nodes do not ping a pooled connection before each use: after PostgreSQL restarts,
    # the first statement on an old connection fails, retryably, and the pool is renewed.
    db = Database(_asyncpg(POSTGRES_URL))
    admin = Database(_asyncpg(POSTGRES_URL))

    def backend(conn: Any) -> int:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    try:
        before = await db.read(backend)
        # What a restart does to that connection: its server process ends.
        assert await admin.write(
            lambda conn: conn.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": before}
            ).scalar_one()
        )
        with pytest.raises(ServiceUnavailable) as refused:
            await db.read(backend)
        assert refused.value.code == "unavailable"
        assert refused.value.retry_after is not None and refused.value.retry_after > 0
        # One request failed; the next ones run on new connections.
        after = await db.write(backend)
        assert after != before
        assert await db.read(backend) > 0
    finally:
        await db.close()
        await admin.close()


def _asyncpg(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1]
