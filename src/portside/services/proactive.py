"""A trigger rule fires for a visitor: the proactive message (docs/engagement.md).

One transaction writes the fire's row (one per rule and visitor: the unique index keeps
it so on every node), checks the caps against the database (messages in the last 24
hours, a proactive message closed lately, a person who has or queues the conversation),
and for a visitor not held out claims the rule's coupon, opens a conversation with the
bot if the visitor has none open, and appends the bot's message (client_id
`trigger:<fire id>`). The events are published after the commit; a rule that notifies
agents then sends the store's consoles a hot lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import (
    Actor,
    ActorType,
    Event,
    EventType,
    Standing,
    Status,
    format_time,
)
from portside.domain.triggers import cap_refusal, choose_text, in_holdout
from portside.services._log import Outcome, append_message, create_conversation, write
from portside.services.context import Services
from portside.services.coupons import claim_code
from portside.services.engagement_settings import read_engagement
from portside.services.triggers import ActiveRule
from portside.storage import conversation_store, store_store, trigger_store

BOT = Actor(ActorType.BOT)
DAY = timedelta(days=1)
WITH_PERSON = (Status.QUEUED.value, Status.ASSIGNED.value)
# How long the engine waits before trying a refused visitor again, by reason.
RETRY_AFTER_S = {"daily_cap": 600.0, "with_person": 30.0, "typing": 5.0, "gone": 3600.0}


@dataclass(frozen=True)
class Fired:
    """What a fire did: `fire_id` None when nothing was written (`refused` says why:
    a cap, "fired" for a rule already fired for the visitor, "gone")."""

    fire_id: int | None
    held_out: bool = False
    refused: str | None = None
    retry_after_s: float | None = None
    event: Event | None = None
    conversation_id: int | None = None


async def do_fire(
    svc: Services,
    *,
    store_id: int,
    visitor_id: int,
    rule: ActiveRule,
    context: dict[str, Any],
    languages: tuple[str | None, ...] = (),
    typing: bool = False,
) -> Fired:
    """Fire `rule` for the visitor; `context` is what held (kept with the fire),
    `languages` the shopper's in order of preference (their conversation's first)."""

    def attempt(conn: Connection, _careful: bool) -> Outcome[Fired]:
        now = svc.clock.now()
        visitor = store_store.lock_visitor(conn, store_id, visitor_id)
        if visitor is None:
            return Fired(None, refused="gone", retry_after_s=RETRY_AFTER_S["gone"]), [], None
        if trigger_store.find_fire_id(conn, rule.id, visitor_id) is not None:
            return Fired(None, refused="fired"), [], None
        store = store_store.find_store(conn, store_id)
        if store is None:
            return Fired(None, refused="gone", retry_after_s=RETRY_AFTER_S["gone"]), [], None
        caps = read_engagement(store.settings)
        fires = trigger_store.list_visitor_fires(conn, store_id, visitor_id)
        contacted = sum(1 for f in fires if not f.held_out and now - f.at < DAY)
        closed = max((f.closed_at for f in fires if f.closed_at is not None), default=None)
        row = conversation_store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
        refusal = cap_refusal(
            caps,
            now=now,
            contacted_last_day=contacted,
            closed_at=closed,
            typing=typing,
            with_person=row is not None and row.status in WITH_PERSON,
        )
        if refusal is not None:
            retry = RETRY_AFTER_S.get(refusal)
            if refusal == "quiet_after_close" and closed is not None:
                quiet = timedelta(minutes=caps.quiet_after_close_min)
                retry = max(1.0, (closed + quiet - now).total_seconds())
            return Fired(None, refused=refusal, retry_after_s=retry), [], None
        held = in_holdout(rule.id, visitor_id, rule.holdout_pct)
        fire_id = trigger_store.insert_fire(
            conn,
            store_id=store_id,
            trigger_id=rule.id,
            visitor_id=visitor_id,
            held_out=held,
            at=now,
            conversation_id=None,
            event_id=None,
            coupon_code_id=None,
            context=context,
            closed_at=None,
        )
        if held or rule.actions.texts is None:
            # Held out: recorded, never contacted. A hot lead alone writes no message.
            return Fired(fire_id, held_out=held), [], None
        wanted = (*languages, visitor.language)
        coupon = None
        fire_context = dict(context)
        if rule.actions.pool_id is not None:
            issued = claim_code(
                conn,
                store_id=store_id,
                pool_id=rule.actions.pool_id,
                visitor_id=visitor_id,
                trigger_id=rule.id,
                now=now,
            )
            if issued is None:
                fire_context["coupon"] = "none_left"
            else:
                described = (
                    choose_text(issued.description, wanted, store.default_language)[1]
                    if issued.description
                    else None
                )
                coupon = {
                    "code": issued.code,
                    "description": described,
                    "expires_at": None
                    if issued.expires_at is None
                    else format_time(issued.expires_at),
                    "code_id": issued.code_id,
                }
        new_events: list[Event] = []
        if row is None or row.status == Status.RESOLVED.value:
            new_events.append(create_conversation(svc, conn, store_id, visitor))
            row = conversation_store.find_latest_conversation_for_visitor(
                conn, store_id, visitor_id
            )
            assert row is not None
        language, text = choose_text(
            rule.actions.texts, (*languages, row.language, visitor.language), store.default_language
        )
        fire_context["language"] = language
        proactive = {
            "fire_id": fire_id,
            "trigger_id": rule.id,
            "open": rule.actions.open_widget,
            "coupon": None
            if coupon is None
            else {k: v for k, v in coupon.items() if k != "code_id"},
        }
        message = append_message(
            svc,
            conn,
            row,
            BOT,
            EventType.MESSAGE_CREATED,
            text,
            f"trigger:{fire_id}",
            {"proactive": proactive},
        )
        new_events.append(message)
        trigger_store.update_fire(
            conn,
            fire_id,
            conversation_id=row.id,
            event_id=message.id,
            coupon_code_id=None if coupon is None else coupon["code_id"],
            context=fire_context,
        )
        standing = Standing(Status(row.status), row.assignee_id)
        return Fired(fire_id, event=message, conversation_id=row.id), new_events, standing

    fired = await write(svc, attempt)
    if fired.fire_id is not None and not fired.held_out and rule.actions.notify_agents:
        await svc.publish_signal(
            store_id, await _lead(svc, store_id, visitor_id, rule, fired, context)
        )
    return fired


async def _lead(
    svc: Services,
    store_id: int,
    visitor_id: int,
    rule: ActiveRule,
    fired: Fired,
    context: dict[str, Any],
) -> dict[str, Any]:
    """The hot-lead signal for the store's consoles (docs/protocol.md, `lead`)."""
    visitor = await svc.db.read(lambda conn: store_store.find_visitor(conn, store_id, visitor_id))
    return {
        "kind": "lead",
        "store_id": store_id,
        "fire_id": fired.fire_id,
        "trigger": {"id": rule.id, "name": rule.name},
        "visitor": {
            "id": visitor_id,
            "name": None if visitor is None else visitor.name,
            "country": None if visitor is None else visitor.country,
            "language": None if visitor is None else visitor.language,
            "page": {
                "url": context.get("url"),
                "title": context.get("title"),
                "product": context.get("product"),
            },
            "cart_value": context.get("cart_value"),
        },
        "conversation_id": fired.conversation_id,
        "at": format_time(svc.clock.now()),
    }


async def do_close_fire(svc: Services, *, store_id: int, visitor_id: int, fire_id: int) -> bool:
    """The shopper closed the proactive message of `fire_id` (theirs): its quiet starts."""
    now = svc.clock.now()
    return await svc.db.write(
        lambda conn: trigger_store.close_fire(conn, store_id, visitor_id, fire_id, now)
    )
