"""Run and check Alembic migrations programmatically (the `portside migrate` command)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

_HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the newest schema. Must not run inside an event loop."""
    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


SchemaState = Literal["current", "missing", "behind", "ahead"]


@dataclass(frozen=True)
class SchemaRevisions:
    """The revisions this code knows, to judge a database's schema by (/readyz)."""

    head: str
    known: frozenset[str]

    @classmethod
    def of_code(cls) -> SchemaRevisions:
        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        return cls(
            head=script.get_current_head() or "",
            known=frozenset(rev.revision for rev in script.walk_revisions()),
        )

    def state(self, revision: str | None) -> SchemaState:
        """`ahead`: a revision this code does not know, so made by a newer release (whose
        migrations, run before a rolling restart, must leave the old code working)."""
        if revision == self.head:
            return "current"
        if revision is None:
            return "missing"
        return "behind" if revision in self.known else "ahead"


async def current_revision(url: str) -> str | None:
    from portside.storage.database import Database

    _ensure_sqlite_dir(url)
    db = Database(url)
    try:
        return await db.read(lambda conn: MigrationContext.configure(conn).get_current_revision())
    finally:
        await db.close()


async def upgrade_async(url: str) -> None:
    """`upgrade` from inside a running event loop (tests, the server's --migrate)."""
    await asyncio.to_thread(upgrade, url)


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
