"""The database schema. Alembic migrations in `migrations/` create and change it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    Index("ix_visitors_store", "store_id"),
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

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", Id, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("store_id", "number", name="uq_orders_store_number"),
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
