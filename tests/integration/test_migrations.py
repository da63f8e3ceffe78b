"""The migrations build exactly the schema that `tables.py` describes."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from portside.storage.migrate import upgrade
from portside.storage.tables import metadata


def test_migrations_make_the_schema_the_code_expects(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": False})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []
