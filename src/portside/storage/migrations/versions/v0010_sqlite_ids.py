"""sqlite: visitors' and conversations' ids are never given again after a deletion

Without AUTOINCREMENT, SQLite gives the highest id again once its row is deleted: an
erased shopper's token would name whoever came next. PostgreSQL's sequences never
reuse an id; there this migration does nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 07:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("visitors", "conversations")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        # Rebuilt with AUTOINCREMENT; SQLite's sequence starts after the highest id kept.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
