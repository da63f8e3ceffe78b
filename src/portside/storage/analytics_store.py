"""The analytics' reads: one record per conversation, rating, visitor, order, trigger fire,
checkout event or order attribution of a store in a time range, for the metric
definitions in domain/metrics.py and domain/sales_metrics.py.

The database does the heavy part (scanning events, grouping them per conversation or
visitor, finding a conversation's first shopper message, the bot's first answer after
it, a person's first answer after the handoff); what comes back is one small row per
thing counted. Everything is plain SQLAlchemy Core that reads the same on SQLite and
PostgreSQL: no date arithmetic or time zones in SQL (the store's calendar days are
cut in Python), no percentile functions (SQLite has none).

Events have no index by store and time: the conversations a range can concern are
found first by (store_id, updated_at) -- a conversation with a message in the range
was updated at or after the range's start -- and their events by the
(conversation_id, seq) index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, select, union_all

from portside.domain.conversations import ActorType, EventType
from portside.domain.metrics import ConversationRecord, RatingRecord
from portside.domain.sales_metrics import (
    AttributionRecord,
    CheckoutRecord,
    FireRecord,
    OrderRecord,
    VisitorRecord,
)
from portside.domain.translation import base_language
from portside.storage.tables import (
    agents,
    conversations,
    events,
    order_attributions,
    orders,
    ratings,
    trigger_fires,
    triggers,
    visitor_events,
    visitors,
)

MESSAGE = EventType.MESSAGE_CREATED.value
CANCELLED = "cancelled"
CHECKOUT_TYPES = ("checkout_started", "checkout_completed")


def _candidates(store_id: int, start: datetime, end: datetime) -> Any:
    """Ids of the store's conversations that can have a message in [start, end)."""
    return select(conversations.c.id).where(
        conversations.c.store_id == store_id,
        conversations.c.updated_at >= start,
        conversations.c.created_at < end,
    )


def list_conversation_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[ConversationRecord]:
    """The store's conversations whose shopper's first message is in [start, end)."""
    c, v = conversations, visitors
    first = (
        select(
            events.c.conversation_id.label("conversation_id"), func.min(events.c.seq).label("seq")
        )
        .where(
            events.c.conversation_id.in_(_candidates(store_id, start, end)),
            events.c.type == MESSAGE,
            events.c.actor_type == ActorType.VISITOR.value,
        )
        .group_by(events.c.conversation_id)
        .subquery("first_message")
    )
    opening = events.alias("opening")
    bot = events.alias("bot")
    bot_reply = (
        select(func.min(bot.c.created_at))
        .where(
            bot.c.conversation_id == c.c.id,
            bot.c.type == MESSAGE,
            bot.c.actor_type == ActorType.BOT.value,
            bot.c.seq > first.c.seq,
        )
        .scalar_subquery()
    )
    person = events.alias("person")

    def first_person_reply(column: Any) -> Any:
        return (
            select(column)
            .where(
                person.c.conversation_id == c.c.id,
                person.c.type == MESSAGE,
                person.c.actor_type == ActorType.AGENT.value,
                person.c.created_at >= c.c.handoff_at,
            )
            .order_by(person.c.seq)
            .limit(1)
            .scalar_subquery()
        )

    change = events.alias("change")
    ever_assigned = exists().where(
        change.c.conversation_id == c.c.id,
        change.c.type == EventType.STATUS_CHANGED.value,
        change.c.data["to"].as_string() == "assigned",
    )
    query = (
        select(
            c.c.id,
            opening.c.created_at.label("first_message_at"),
            bot_reply.label("bot_reply_at"),
            c.c.handoff_at,
            first_person_reply(person.c.created_at).label("human_reply_at"),
            first_person_reply(person.c.actor_id).label("human_agent_id"),
            c.c.assignee_id,
            ever_assigned.label("ever_assigned"),
            c.c.status,
            c.c.language,
            v.c.language.label("visitor_language"),
            v.c.country,
        )
        .select_from(
            c.join(first, first.c.conversation_id == c.c.id)
            .join(
                opening,
                and_(
                    opening.c.conversation_id == first.c.conversation_id,
                    opening.c.seq == first.c.seq,
                ),
            )
            .join(v, v.c.id == c.c.visitor_id)
        )
        .where(c.c.store_id == store_id, opening.c.created_at >= start, opening.c.created_at < end)
        .order_by(c.c.id)
    )
    return [
        ConversationRecord(
            id=row.id,
            first_message_at=row.first_message_at,
            bot_reply_at=row.bot_reply_at,
            handoff_at=row.handoff_at,
            human_reply_at=row.human_reply_at,
            human_agent_id=row.human_agent_id,
            agent_id=row.assignee_id,
            ever_assigned=bool(row.ever_assigned),
            resolved=row.status == "resolved",
            language=base_language(row.language) or base_language(row.visitor_language),
            country=row.country,
        )
        for row in conn.execute(query)
    ]


def list_rating_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[RatingRecord]:
    """The answered ratings of the resolutions asked in [start, end)."""
    r, c, v = ratings, conversations, visitors
    query = (
        select(
            r.c.created_at,
            r.c.resolved_by,
            r.c.agent_id,
            r.c.score,
            c.c.language,
            v.c.language.label("visitor_language"),
            v.c.country,
        )
        .select_from(r.join(c, c.c.id == r.c.conversation_id).join(v, v.c.id == c.c.visitor_id))
        # Answered after they were asked: rated_at narrows by the (store_id, rated_at) index.
        .where(
            r.c.store_id == store_id,
            r.c.rated_at >= start,
            r.c.score.is_not(None),
            r.c.created_at >= start,
            r.c.created_at < end,
        )
    )
    return [
        RatingRecord(
            asked_at=row.created_at,
            resolved_by=row.resolved_by,
            agent_id=row.agent_id,
            score=row.score,
            language=base_language(row.language) or base_language(row.visitor_language),
            country=row.country,
        )
        for row in conn.execute(query)
    ]


def list_visitor_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[VisitorRecord]:
    """Visitors seen in [start, end): with a visitor event or a message of theirs in it."""
    c, e, v, ve = conversations, events, visitors, visitor_events
    messages = (
        select(c.c.visitor_id.label("visitor_id"), func.min(e.c.created_at).label("at"))
        .select_from(e.join(c, c.c.id == e.c.conversation_id))
        .where(
            e.c.conversation_id.in_(_candidates(store_id, start, end)),
            e.c.type == MESSAGE,
            e.c.actor_type == ActorType.VISITOR.value,
            e.c.created_at >= start,
            e.c.created_at < end,
        )
        .group_by(c.c.visitor_id)
        .cte("messages")
    )
    seen = union_all(
        select(ve.c.visitor_id.label("visitor_id"), ve.c.at.label("at")).where(
            ve.c.store_id == store_id, ve.c.at >= start, ve.c.at < end
        ),
        select(messages.c.visitor_id, messages.c.at),
    ).subquery("seen")
    first_seen = (
        select(seen.c.visitor_id, func.min(seen.c.at).label("first_seen_at"))
        .group_by(seen.c.visitor_id)
        .subquery("first_seen")
    )
    query = (
        select(
            first_seen.c.visitor_id,
            first_seen.c.first_seen_at,
            messages.c.at.label("first_message_at"),
            v.c.language,
            v.c.country,
        )
        .select_from(
            first_seen.join(v, v.c.id == first_seen.c.visitor_id).outerjoin(
                messages, messages.c.visitor_id == first_seen.c.visitor_id
            )
        )
        .where(v.c.store_id == store_id)
    )
    return [
        VisitorRecord(
            visitor_id=row.visitor_id,
            first_seen_at=row.first_seen_at,
            first_message_at=row.first_message_at,
            language=base_language(row.language),
            country=row.country,
        )
        for row in conn.execute(query)
    ]


def list_order_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[OrderRecord]:
    """The store's orders placed in [start, end), cancelled ones included (and marked)."""
    query = select(orders.c.visitor_id, orders.c.placed_at, orders.c.status).where(
        orders.c.store_id == store_id, orders.c.placed_at >= start, orders.c.placed_at < end
    )
    return [
        OrderRecord(row.visitor_id, row.placed_at, row.status == CANCELLED)
        for row in conn.execute(query)
    ]


def list_fire_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[FireRecord]:
    query = select(
        trigger_fires.c.trigger_id,
        trigger_fires.c.visitor_id,
        trigger_fires.c.held_out,
        trigger_fires.c.at,
    ).where(
        trigger_fires.c.store_id == store_id,
        trigger_fires.c.at >= start,
        trigger_fires.c.at < end,
    )
    return [
        FireRecord(row.trigger_id, row.visitor_id, bool(row.held_out), row.at)
        for row in conn.execute(query)
    ]


def list_checkout_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[CheckoutRecord]:
    """Checkouts started or completed in [start, end), with the visitor's language and
    country."""
    ve, v = visitor_events, visitors
    query = (
        select(ve.c.visitor_id, ve.c.type, ve.c.at, v.c.language, v.c.country)
        .select_from(ve.join(v, v.c.id == ve.c.visitor_id))
        .where(
            ve.c.store_id == store_id,
            ve.c.at >= start,
            ve.c.at < end,
            ve.c.type.in_(CHECKOUT_TYPES),
        )
    )
    return [
        CheckoutRecord(row.visitor_id, row.type, row.at, base_language(row.language), row.country)
        for row in conn.execute(query)
    ]


def list_attribution_records(
    conn: Connection, store_id: int, start: datetime, end: datetime
) -> list[AttributionRecord]:
    """What the store's orders placed in [start, end) were credited to."""
    a, o, v = order_attributions, orders, visitors
    query = (
        select(
            a.c.order_id,
            a.c.kind,
            a.c.trigger_id,
            o.c.currency,
            o.c.total_cents,
            o.c.placed_at,
            o.c.status,
            v.c.language,
            v.c.country,
        )
        .select_from(a.join(o, o.c.id == a.c.order_id).outerjoin(v, v.c.id == o.c.visitor_id))
        .where(
            a.c.store_id == store_id,
            o.c.store_id == store_id,
            o.c.placed_at >= start,
            o.c.placed_at < end,
        )
    )
    return [
        AttributionRecord(
            order_id=row.order_id,
            kind=row.kind,
            trigger_id=row.trigger_id,
            currency=row.currency,
            total_cents=row.total_cents,
            placed_at=row.placed_at,
            cancelled=row.status == CANCELLED,
            language=base_language(row.language),
            country=row.country,
        )
        for row in conn.execute(query)
    ]


def agent_names(conn: Connection, store_id: int) -> dict[int, str]:
    query = select(agents.c.id, agents.c.name).where(agents.c.store_id == store_id)
    return {row.id: row.name for row in conn.execute(query)}


def trigger_names(conn: Connection, store_id: int) -> dict[int, str]:
    query = select(triggers.c.id, triggers.c.name).where(triggers.c.store_id == store_id)
    return {row.id: row.name for row in conn.execute(query)}
