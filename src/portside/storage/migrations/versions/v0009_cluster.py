"""cluster: leases for jobs that run on one node at a time, visitors' online state

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("until", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(sa.Column("online_until", _WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.drop_column("online_until")
    op.drop_table("job_leases")
