"""Alembic environment: SQLite through its sync driver, PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from portside.storage.tables import metadata

config = context.config

# Nodes started together each run the migrations (`portside serve` does, unless
# --no-migrate): on PostgreSQL the first to take this lock upgrades, and the others wait
# for its commit, then find the schema current. Any constant will do; this one reads
# "portside" in ASCII.
MIGRATION_LOCK = 0x706F_7274_7369_6465


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held to the end of the transaction, before the version is read.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
elif (config.get_main_option("sqlalchemy.url") or "").startswith("sqlite"):
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()
else:
    asyncio.run(_run_async())
