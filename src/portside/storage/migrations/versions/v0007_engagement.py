"""engagement: shopping-behaviour events, identified visitors, trigger rules and their
fires, coupon pools and codes, orders from webhooks with attribution

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def upgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("identified_at", _WHEN, nullable=True))
        batch.create_index("ix_visitors_store_customer", ["store_id", "customer_id"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="demo")
        )
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("visitor_id", _ID, nullable=True))
        batch.add_column(sa.Column("customer_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("total_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("coupon", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("placed_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("paid_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("cancelled_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("updated_at", _WHEN, nullable=True))
        batch.create_foreign_key(
            op.f("fk_orders_visitor_id_visitors"),
            "visitors",
            ["visitor_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_orders_store_placed", ["store_id", "placed_at"])
        batch.create_index("ix_orders_visitor", ["visitor_id"])
    op.create_table(
        "visitor_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("visitor_id", _ID, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        _fk("visitor_events", "store_id", "stores", "CASCADE"),
        _fk("visitor_events", "visitor_id", "visitors", "CASCADE"),
        _pk("visitor_events"),
        sa.UniqueConstraint("visitor_id", "client_id", name="uq_visitor_events_visitor_client_id"),
        sa.Index("ix_visitor_events_store_at", "store_id", "at"),
        sa.Index("ix_visitor_events_visitor_at", "visitor_id", "at"),
    )
    op.create_table(
        "coupon_pools",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("pattern", sa.String(length=64), nullable=True),
        sa.Column("expires_at", _WHEN, nullable=True),
        sa.Column("per_visitor_limit", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("coupon_pools", "store_id", "stores", "CASCADE"),
        _pk("coupon_pools"),
        sa.UniqueConstraint("store_id", "name", name="uq_coupon_pools_store_name"),
    )
    op.create_table(
        "triggers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default="1"),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("holdout_pct", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        _fk("triggers", "store_id", "stores", "CASCADE"),
        _pk("triggers"),
        sa.UniqueConstraint("store_id", "name", name="uq_triggers_store_name"),
    )
    op.create_table(
        "coupon_codes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("pool_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", _ID, nullable=True),
        sa.Column("trigger_id", _ID, nullable=True),
        sa.Column("issued_at", _WHEN, nullable=True),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("redeemed_at", _WHEN, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("coupon_codes", "store_id", "stores", "CASCADE"),
        _fk("coupon_codes", "pool_id", "coupon_pools", "CASCADE"),
        _fk("coupon_codes", "visitor_id", "visitors", "SET NULL"),
        _fk("coupon_codes", "trigger_id", "triggers", "SET NULL"),
        _fk("coupon_codes", "order_id", "orders", "SET NULL"),
        _pk("coupon_codes"),
        sa.UniqueConstraint("store_id", "code", name="uq_coupon_codes_store_code"),
        sa.Index("ix_coupon_codes_pool_issued", "pool_id", "issued_at", "id"),
        sa.Index("ix_coupon_codes_visitor", "visitor_id"),
    )
    op.create_table(
        "trigger_fires",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("trigger_id", _ID, nullable=False),
        sa.Column("visitor_id", _ID, nullable=False),
        sa.Column("held_out", sa.Boolean(), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("conversation_id", _ID, nullable=True),
        sa.Column("event_id", _ID, nullable=True),
        sa.Column("coupon_code_id", _ID, nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("closed_at", _WHEN, nullable=True),
        _fk("trigger_fires", "store_id", "stores", "CASCADE"),
        _fk("trigger_fires", "trigger_id", "triggers", "CASCADE"),
        _fk("trigger_fires", "visitor_id", "visitors", "CASCADE"),
        _fk("trigger_fires", "conversation_id", "conversations", "SET NULL"),
        _fk("trigger_fires", "coupon_code_id", "coupon_codes", "SET NULL"),
        _pk("trigger_fires"),
        sa.UniqueConstraint("trigger_id", "visitor_id", name="uq_trigger_fires_trigger_visitor"),
        sa.Index("ix_trigger_fires_store_visitor_at", "store_id", "visitor_id", "at"),
        sa.Index("ix_trigger_fires_store_at", "store_id", "at"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        _fk("webhook_deliveries", "store_id", "stores", "CASCADE"),
        _pk("webhook_deliveries"),
        sa.UniqueConstraint(
            "store_id",
            "source",
            "delivery_id",
            name="uq_webhook_deliveries_store_source_delivery_id",
        ),
    )
    op.create_table(
        "order_attributions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", _ID, nullable=True),
        sa.Column("trigger_id", _ID, nullable=True),
        sa.Column("fire_id", _ID, nullable=True),
        sa.Column("coupon_code_id", _ID, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("order_attributions", "store_id", "stores", "CASCADE"),
        _fk("order_attributions", "order_id", "orders", "CASCADE"),
        _fk("order_attributions", "conversation_id", "conversations", "SET NULL"),
        _fk("order_attributions", "trigger_id", "triggers", "SET NULL"),
        _fk("order_attributions", "fire_id", "trigger_fires", "SET NULL"),
        _fk("order_attributions", "coupon_code_id", "coupon_codes", "SET NULL"),
        _pk("order_attributions"),
        sa.UniqueConstraint("order_id", "ref", name="uq_order_attributions_order_ref"),
        sa.Index("ix_order_attributions_store_kind", "store_id", "kind"),
    )


def downgrade() -> None:
    for table in (
        "order_attributions",
        "webhook_deliveries",
        "trigger_fires",
        "coupon_codes",
        "triggers",
        "coupon_pools",
        "visitor_events",
    ):
        op.drop_table(table)
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_visitor")
        batch.drop_index("ix_orders_store_placed")
        batch.drop_constraint(op.f("fk_orders_visitor_id_visitors"), type_="foreignkey")
        for column in (
            "updated_at",
            "cancelled_at",
            "paid_at",
            "placed_at",
            "coupon",
            "currency",
            "total_cents",
            "status",
            "email",
            "customer_id",
            "visitor_id",
            "external_id",
            "source",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("visitors") as batch:
        batch.drop_index("ix_visitors_store_customer")
        for column in ("identified_at", "tags", "customer_id"):
            batch.drop_column(column)
