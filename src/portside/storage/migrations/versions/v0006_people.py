"""the people behind the bot: agent skills and presence, teams with business hours,
routing and SLA times on conversations, CSAT ratings, canned replies, emails

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("holidays", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("teams", "store_id", "stores", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("store_id", "name", name="uq_teams_store_name"),
    )
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("teams", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("max_concurrent", sa.Integer(), nullable=False, server_default="5")
        )
        batch.add_column(
            sa.Column("presence", sa.String(length=16), nullable=False, server_default="offline")
        )
        batch.add_column(sa.Column("presence_until", _WHEN, nullable=True))
        batch.add_column(sa.Column("active_at", _WHEN, nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("team_id", _ID, nullable=True))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("queued_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("passed_by", _ID, nullable=True))
        batch.add_column(sa.Column("handoff_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("first_reply_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("awaiting_since", _WHEN, nullable=True))
        batch.add_column(sa.Column("resolved_at", _WHEN, nullable=True))
        batch.create_foreign_key(
            op.f("fk_conversations_team_id_teams"),
            "teams",
            ["team_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_conversations_passed_by_agents"),
            "agents",
            ["passed_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_conversations_store_status", ["store_id", "status", "assignee_id"])
        batch.create_index("ix_conversations_status", ["status", "store_id"])
    op.create_table(
        "ratings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("resolved_seq", sa.Integer(), nullable=False),
        sa.Column("resolved_by", sa.String(length=16), nullable=False),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("rated_at", _WHEN, nullable=True),
        _fk("ratings", "store_id", "stores", "CASCADE"),
        _fk("ratings", "conversation_id", "conversations", "CASCADE"),
        _fk("ratings", "agent_id", "agents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint(
            "conversation_id", "resolved_seq", name="uq_ratings_conversation_resolved_seq"
        ),
        sa.Index("ix_ratings_store_rated", "store_id", "rated_at"),
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("shortcut", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        _fk("canned_replies", "store_id", "stores", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint(
            "store_id", "shortcut", "language", name="uq_canned_replies_store_shortcut_language"
        ),
    )
    op.create_table(
        "emails",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        _fk("emails", "store_id", "stores", "CASCADE"),
        _fk("emails", "conversation_id", "conversations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emails")),
        sa.UniqueConstraint("store_id", "message_id", name="uq_emails_store_message_id"),
        sa.Index("ix_emails_status", "status", "id"),
        sa.Index("ix_emails_conversation", "conversation_id", "id"),
    )


def downgrade() -> None:
    op.drop_table("emails")
    op.drop_table("canned_replies")
    op.drop_table("ratings")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_status")
        batch.drop_index("ix_conversations_store_status")
        batch.drop_constraint(op.f("fk_conversations_team_id_teams"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_conversations_passed_by_agents"), type_="foreignkey")
        for column in (
            "resolved_at",
            "awaiting_since",
            "first_reply_at",
            "handoff_at",
            "queued_at",
            "priority",
            "team_id",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("agents") as batch:
        for column in (
            "active_at",
            "presence_until",
            "presence",
            "max_concurrent",
            "teams",
            "languages",
        ):
            batch.drop_column(column)
    op.drop_table("teams")
