"""The database schema. Alembic migrations in `migrations/` create and change it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite keeps BIGINT primary keys as plain INTEGER so that they autoincrement.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


stores = Table(
    "stores",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("widget_key", String(64), nullable=False, unique=True),
    Column("allowed_origins", JSON, nullable=False),
    Column("default_language", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Per-store settings by section ("llm", "handoff"), validated by services/settings.py.
    Column("settings", JSON, nullable=False, server_default="{}"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("session_version", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime, nullable=False),
    # Language codes the agent speaks and ids of the teams they belong to.
    Column("languages", JSON, nullable=False, server_default="[]"),
    Column("teams", JSON, nullable=False, server_default="[]"),
    Column("max_concurrent", Integer, nullable=False, server_default="5"),
    # What the agent chose ("online", "away", "offline"); it counts only while a node
    # renews `presence_until` for an open console (services/presence.py).
    Column("presence", String(16), nullable=False, server_default="offline"),
    Column("presence_until", UtcDateTime),
    # Last sign of the agent at the keyboard, for the automatic away.
    Column("active_at", UtcDateTime),
    Index("ix_agents_store", "store_id"),
)

# Agents grouped by skill, with the hours they answer in their own time zone:
# hours {"mon": [["09:00", "18:00"]], ...} (None: always open), holidays ["2026-12-25"].
teams = Table(
    "teams",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("hours", JSON),
    Column("holidays", JSON, nullable=False, server_default="[]"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "name", name="uq_teams_store_name"),
)

visitors = Table(
    "visitors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("name", String(200)),
    Column("email", String(320)),
    Column("language", String(35)),
    Column("timezone", String(64)),
    Column("country", String(2)),
    Column("page_url", Text),
    Column("page_title", String(500)),
    Column("product", String(200)),
    Column("referrer", Text),
    Column("user_agent", String(500)),
    # Set by `Portside.identify` with the store's HMAC: the store's own customer id and
    # tags ("vip"), kept until another identify changes them.
    Column("customer_id", String(200)),
    Column("tags", JSON),
    Column("identified_at", UtcDateTime),
    # Renewed by the node holding a widget of theirs open (services/visitor_presence.py):
    # online while in the future, whichever node they are on.
    Column("online_until", UtcDateTime),
    Index("ix_visitors_store", "store_id"),
    Index("ix_visitors_store_customer", "store_id", "customer_id"),
    # SQLite gives a deleted row's id again unless told not to (v0010).
    sqlite_autoincrement=True,
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_id", Id, ForeignKey("visitors.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assignee_id", Id, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("last_message_at", UtcDateTime),
    Column("preview", String(200)),
    Column("language", String(35)),
    # Routing: the team whose queue it waits in, and its place there.
    Column("team_id", Id, ForeignKey("teams.id", ondelete="SET NULL")),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("queued_at", UtcDateTime),
    # The agent who last handed it on: never routed back to them by itself.
    Column("passed_by", Id, ForeignKey("agents.id", ondelete="SET NULL")),
    # SLA clocks: the human clock starts at the first handoff.
    Column("handoff_at", UtcDateTime),
    Column("first_reply_at", UtcDateTime),
    # The shopper's oldest message no person or bot has answered yet.
    Column("awaiting_since", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Index("ix_conversations_store_updated", "store_id", "updated_at"),
    Index("ix_conversations_visitor", "visitor_id"),
    Index("ix_conversations_store_status", "store_id", "status", "assignee_id"),
    # The desk loops look for queued and assigned conversations across stores.
    Index("ix_conversations_status", "status", "store_id"),
    # SQLite gives a deleted row's id again unless told not to (v0010).
    sqlite_autoincrement=True,
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column(
        "conversation_id",
        Id,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", Id),
    Column("actor_name", String(200)),
    Column("client_id", String(64)),
    Column("data", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("conversation_id", "seq", name="uq_events_conversation_seq"),
    UniqueConstraint("conversation_id", "client_id", name="uq_events_conversation_client_id"),
)

products = Table(
    "products",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(200), nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("store_id", "slug", name="uq_products_store_slug"),
)

knowledge = Table(
    "knowledge",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(100), nullable=False),
    # The intents the entry answers, and its title and text by language code.
    Column("intents", JSON, nullable=False),
    Column("title", JSON, nullable=False),
    Column("text", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "slug", name="uq_knowledge_store_slug"),
)

# `data` is the order as the AI agent reads it (commerce/orders.py). The columns beside it
# are what attribution and analytics query: where it came from ("demo", "shopify",
# "api"), the store's own id for it, who bought it, its money and its coupon.
orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("source", String(16), nullable=False, server_default="demo"),
    Column("external_id", String(64)),
    Column("visitor_id", Id, ForeignKey("visitors.id", ondelete="SET NULL")),
    Column("customer_id", String(200)),
    Column("email", String(320)),
    # "placed", "paid", "cancelled".
    Column("status", String(32)),
    # The total times 100 (two decimals whatever the currency), and its ISO 4217 code.
    Column("total_cents", BigInteger),
    Column("currency", String(3)),
    Column("coupon", String(64)),
    Column("placed_at", UtcDateTime),
    Column("paid_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    UniqueConstraint("store_id", "number", name="uq_orders_store_number"),
    Index("ix_orders_store_placed", "store_id", "placed_at"),
    Index("ix_orders_visitor", "visitor_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column(
        "conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    ),
    # "return" or "exchange"; "open", then what an agent decides.
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    # What opened it ("bot:<event id>"): one case however many times that is retried.
    Column("key", String(128), nullable=False),
    # order, items, reason, photos, the shopper's words.
    Column("data", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "key", name="uq_cases_store_key"),
    Index("ix_cases_store_status", "store_id", "status", "id"),
)

# A store's own intents, next to the catalogue's (services/intents.py).
store_intents = Table(
    "store_intents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "name", name="uq_store_intents_store_name"),
)

# Labelled messages a store's model learns from: added through the API, or a shopper's
# message an agent confirmed or corrected (one label a message: `event_id`).
intent_examples = Table(
    "intent_examples",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("language", String(16)),
    Column("intent", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("event_id", Id),
    Column("labelled_by", Id, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "event_id", name="uq_intent_examples_store_event"),
    Index("ix_intent_examples_store_intent", "store_id", "intent"),
)

# A store's trained intent model (version 0: none yet) and the lease that lets one node
# at a time train it.
store_models = Table(
    "store_models",
    metadata,
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("weights", LargeBinary),
    Column("labels", JSON),
    # {before, after, n_examples, folds, per_intent}
    Column("metrics", JSON),
    Column("trained_at", UtcDateTime),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime),
    # Why the last training failed; cleared when one succeeds.
    Column("error", Text),
)

# CSAT: one request per resolution (`resolved_seq`), to the agent who resolved it or to
# the bot (`agent_id` None); the score and comment arrive when the shopper answers.
ratings = Table(
    "ratings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column(
        "conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("resolved_seq", Integer, nullable=False),
    Column("resolved_by", String(16), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("score", Integer),
    Column("comment", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("rated_at", UtcDateTime),
    UniqueConstraint(
        "conversation_id", "resolved_seq", name="uq_ratings_conversation_resolved_seq"
    ),
    Index("ix_ratings_store_rated", "store_id", "rated_at"),
)

# Replies agents insert by shortcut, one text per language.
canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("shortcut", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint(
        "store_id", "shortcut", "language", name="uq_canned_replies_store_shortcut_language"
    ),
)

# Email a conversation sent ("out": an agent's reply to a shopper who left) or received
# ("in": the shopper's answer), by Message-ID, so that nothing is sent or taken twice.
emails = Table(
    "emails",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column(
        "conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("direction", String(8), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("event_id", Id),
    # "pending", "sent", "failed" (out); "received" (in).
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "message_id", name="uq_emails_store_message_id"),
    Index("ix_emails_status", "status", "id"),
    Index("ix_emails_conversation", "conversation_id", "id"),
)

# Shopping behaviour the widget reports (page views, time on page, cart, checkout, the
# store's own events), per visitor and browser session; kept for the store's retention.
# `client_id` is made by the widget, so a batch sent again (socket, then beacon) is
# stored once.
visitor_events = Table(
    "visitor_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_id", Id, ForeignKey("visitors.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("client_id", String(64)),
    Column("url", Text),
    Column("data", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("visitor_id", "client_id", name="uq_visitor_events_visitor_client_id"),
    Index("ix_visitor_events_store_at", "store_id", "at"),
    Index("ix_visitor_events_visitor_at", "visitor_id", "at"),
)

# Pools of single-use coupon codes; a code is handed out once (`visitor_id` set).
coupon_pools = Table(
    "coupon_pools",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    # What a code gives, for the shopper ("10% off"), by language code.
    Column("description", JSON, nullable=False),
    # How generated codes look ("WELCOME-{XXXXXX}"); None for imported pools.
    Column("pattern", String(64)),
    Column("expires_at", UtcDateTime),
    Column("per_visitor_limit", Integer, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "name", name="uq_coupon_pools_store_name"),
)

# Trigger rules: conditions on shopping behaviour, and what to do when they hold.
triggers = Table(
    "triggers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # Higher first when several rules hold at once.
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("conditions", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    # The share (0-50 %) of eligible visitors never contacted, to measure uplift against.
    Column("holdout_pct", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "name", name="uq_triggers_store_name"),
)

coupon_codes = Table(
    "coupon_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("pool_id", Id, ForeignKey("coupon_pools.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("visitor_id", Id, ForeignKey("visitors.id", ondelete="SET NULL")),
    Column("trigger_id", Id, ForeignKey("triggers.id", ondelete="SET NULL")),
    Column("issued_at", UtcDateTime),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="SET NULL")),
    Column("redeemed_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "code", name="uq_coupon_codes_store_code"),
    Index("ix_coupon_codes_pool_issued", "pool_id", "issued_at", "id"),
    Index("ix_coupon_codes_visitor", "visitor_id"),
)

# A rule that held for a visitor: at most one per rule and visitor. `held_out` visitors
# (the rule's control share) are recorded but never contacted.
trigger_fires = Table(
    "trigger_fires",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("trigger_id", Id, ForeignKey("triggers.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_id", Id, ForeignKey("visitors.id", ondelete="CASCADE"), nullable=False),
    Column("held_out", Boolean, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="SET NULL")),
    # The proactive message's event, and the coupon it offered.
    Column("event_id", Id),
    Column("coupon_code_id", Id, ForeignKey("coupon_codes.id", ondelete="SET NULL")),
    # What made it hold (url, product, cart value ...), for the agents and the preview.
    Column("context", JSON, nullable=False),
    # The shopper closed the proactive message.
    Column("closed_at", UtcDateTime),
    UniqueConstraint("trigger_id", "visitor_id", name="uq_trigger_fires_trigger_visitor"),
    Index("ix_trigger_fires_store_visitor_at", "store_id", "visitor_id", "at"),
    Index("ix_trigger_fires_store_at", "store_id", "at"),
)

# Webhook deliveries already taken, by the sender's delivery id: a redelivery is
# recognised and stored once.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("delivery_id", String(200), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint(
        "store_id", "source", "delivery_id", name="uq_webhook_deliveries_store_source_delivery_id"
    ),
)

# What an order is credited to: `kind` "conversation", "trigger" or "coupon", and `ref`
# ("conversation:12", "trigger:3", "coupon:7") so that each is credited once.
order_attributions = Table(
    "order_attributions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("trigger_id", Id, ForeignKey("triggers.id", ondelete="SET NULL")),
    Column("fire_id", Id, ForeignKey("trigger_fires.id", ondelete="SET NULL")),
    Column("coupon_code_id", Id, ForeignKey("coupon_codes.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("order_id", "ref", name="uq_order_attributions_order_ref"),
    Index("ix_order_attributions_store_kind", "store_id", "kind"),
)

# Photos, PDFs and voice notes sent in a conversation, checked and re-encoded on upload
# (services/uploads.py); the bytes live in the file store (local directory or S3) under
# `storage_key`. An upload belongs to no conversation until the message that carries it
# is sent (`conversation_id`, `event_id`); unsent uploads are swept after a while.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE")),
    Column("event_id", Id),
    # Who sent it: a shopper (visitor_id) or an agent (agent_id).
    Column("visitor_id", Id, ForeignKey("visitors.id", ondelete="CASCADE")),
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="SET NULL")),
    # "image", "file" or "voice".
    Column("kind", String(16), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(300), nullable=False),
    Column("thumbnail_key", String(300)),
    Column("width", Integer),
    Column("height", Integer),
    Column("duration_ms", Integer),
    Column("original_name", String(255)),
    # What the providers made of it: {text, language, provider} for a voice note,
    # {text, labels, provider} for a photo.
    Column("transcript", JSON),
    Column("description", JSON),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_attachments_conversation", "conversation_id", "id"),
    Index("ix_attachments_store_created", "store_id", "created_at"),
)

# A job that must run on one node at a time (a sweep, a timer): the node that holds its
# row until `until` runs it; one that died lets go by then (services/leases.py).
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("until", UtcDateTime, nullable=False),
)
