"""attachments: photos, PDFs and voice notes in conversations

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 03:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def _fk(column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_attachments_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=True),
        sa.Column("event_id", _ID, nullable=True),
        sa.Column("visitor_id", _ID, nullable=True),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=300), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.Column("description", sa.JSON(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("store_id", "stores", "CASCADE"),
        _fk("conversation_id", "conversations", "CASCADE"),
        _fk("visitor_id", "visitors", "CASCADE"),
        _fk("agent_id", "agents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.Index("ix_attachments_conversation", "conversation_id", "id"),
        sa.Index("ix_attachments_store_created", "store_id", "created_at"),
    )


def downgrade() -> None:
    op.drop_table("attachments")
