"""knowledge: a store's FAQ and policies, by language

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "knowledge",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("text", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_knowledge_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge")),
        sa.UniqueConstraint("store_id", "slug", name="uq_knowledge_store_slug"),
    )


def downgrade() -> None:
    op.drop_table("knowledge")
