"""What the AI agent writes: its replies, and the handoff to a person.

The agent is a participant like a person: it writes through these actions, which run in
one transaction each and publish after commit like every other. A reply is keyed by the
shopper's message it answers (`client_id` "bot:<event id>"), so the unique index on
(conversation, client_id) lets one reply in however many times it is attempted, on
however many nodes. Nothing is written once the conversation has left the bot: the
moment a handoff commits, the bot says nothing more. Except outside business hours:
while the conversation waits in the queue with no person to be reached, the bot keeps
answering (services/opening.py), until a person takes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from portside.commerce.orders import kept_by_shop
from portside.domain.conversations import Actor, ActorType, Event, EventType, Standing, Status
from portside.domain.order_numbers import OrderRef
from portside.services._log import (
    Outcome,
    append_event,
    append_message,
    get_conversation,
    write,
)
from portside.services.context import Services
from portside.services.conversations import SendResult
from portside.services.opening import bot_stands_in
from portside.services.order_lookup import find_named_order, find_named_orders
from portside.services.routing import priority_of_orders, queue_and_route, would_route
from portside.storage import case_store, intent_store, knowledge_store, order_store, store_store
from portside.storage import conversation_store as store

# No name: each side shows the bot in its own language ("Asistente", "The AI agent").
BOT = Actor(ActorType.BOT)


def bot_client_id(reply_to: int) -> str:
    return f"bot:{reply_to}"


async def do_send_bot_message(
    svc: Services,
    *,
    store_id: int,
    conversation_id: int,
    reply_to: int,
    text: str,
    details: dict[str, Any],
    handoff_reason: str | None = None,
    handoff_context: dict[str, Any] | None = None,
    open_case: dict[str, Any] | None = None,
    unrouted_text: str | None = None,
) -> SendResult | None:
    """The bot's answer to the shopper's message `reply_to`, and with `handoff_reason` its
    handoff to the queue in the same transaction, preceded by the context packet for
    the person who takes it. With `open_case` (`{"kind", "data"}`), the case it opens,
    in the same transaction: `{case}` in the text and the packet's `case_id` become its
    number. None if the bot no longer has the conversation (a person took it, or it
    was handed off meanwhile, within business hours). In a conversation that waits
    outside business hours, a handoff writes its packet but does not queue it again.
    `unrouted_text` is said instead of `text` when the handoff finds no agent who can
    take it at once (outside hours: when a person is back)."""
    client_id = bot_client_id(reply_to)

    def attempt(conn: Connection, careful: bool) -> Outcome[SendResult | None]:
        row = get_conversation(conn, store_id, conversation_id)
        if careful:
            previous = store.find_event_by_client_id(conn, row.id, client_id)
            if previous is not None:
                return SendResult(store.event_from_row(previous, row.visitor_id), True), [], None
        if not bot_stands_in(conn, row, svc.clock.now()):
            return None, [], None
        waiting = Status(row.status) is Status.QUEUED
        said, context, facts = text, dict(handoff_context or {}), details
        if (
            handoff_reason is not None
            and unrouted_text is not None
            and (waiting or not would_route(conn, row, svc.clock.now()))
        ):
            said = unrouted_text
        if open_case is not None:
            case_id = case_store.insert_case(
                conn,
                store_id=store_id,
                conversation_id=row.id,
                kind=str(open_case["kind"]),
                key=client_id,
                data=open_case["data"],
                now=svc.clock.now(),
            )
            said = said.replace("{case}", str(case_id))
            context["case_id"] = case_id
            facts = {**details, "case_id": case_id}
        message = append_message(
            svc, conn, row, BOT, EventType.MESSAGE_CREATED, said, client_id, {"bot": facts}
        )
        if handoff_reason is None:
            standing = Standing(Status(row.status))
            return SendResult(message, False, standing), [message], standing
        packet = append_event(
            svc,
            conn,
            row,
            BOT,
            EventType.HANDOFF_CONTEXT,
            {"reason": handoff_reason, **context},
        )
        if waiting:
            standing = Standing(Status.QUEUED)
            return SendResult(message, False, standing), [message, packet], standing
        routed, standing = queue_and_route(
            svc, conn, row, BOT, handoff_reason, orders=_proven_orders(conn, store_id, context)
        )
        return SendResult(message, False, standing), [message, packet, *routed], standing

    return await write(svc, attempt)


async def do_write_handoff_context(
    svc: Services,
    *,
    store_id: int,
    conversation_id: int,
    handoff_event_id: int,
    packet: dict[str, Any],
) -> Event | None:
    """The context packet for a handoff the bot did not make (the shopper's "talk to a
    person" button), written after it: once, keyed by the handoff's event."""
    client_id = f"handoff:{handoff_event_id}"

    def attempt(conn: Connection, careful: bool) -> Outcome[Event | None]:
        row = get_conversation(conn, store_id, conversation_id)
        if careful and store.find_event_by_client_id(conn, row.id, client_id) is not None:
            return None, [], None
        # The packet names the orders the shopper proved: the store's priority rules
        # may move the conversation up the queue.
        changes: dict[str, Any] = {}
        if row.status == Status.QUEUED.value:
            changes["priority"] = max(
                int(row.priority or 0),
                priority_of_orders(conn, store_id, _proven_orders(conn, store_id, packet)),
            )
        event = append_event(
            svc, conn, row, BOT, EventType.HANDOFF_CONTEXT, packet, client_id=client_id, **changes
        )
        return event, [event], Standing(Status(row.status), row.assignee_id)

    return await write(svc, attempt)


# How many events of a conversation the context packet is made from, at most.
HISTORY_EVENTS = 200


async def get_handoff_history(
    svc: Services, *, store_id: int, conversation_id: int
) -> dict[str, Any] | None:
    """What a context packet is made from: the conversation's latest events and where
    the shopper is (page, country, time zone, language); and what the bot needs to tell
    them when a person is back (status, team, email, the store's zone and language)."""

    def query(conn: Connection) -> dict[str, Any] | None:
        row = store.find_conversation(conn, store_id, conversation_id)
        if row is None:
            return None
        visitor = store_store.find_visitor(conn, store_id, row.visitor_id)
        last = int(row.last_seq)
        events = store.list_events(
            conn,
            conversation_id,
            visitor_id=row.visitor_id,
            after_seq=max(0, last - HISTORY_EVENTS),
            limit=HISTORY_EVENTS,
        )
        shop = store_store.find_store(conn, store_id)
        where = {
            "status": row.status,
            "team_id": row.team_id,
            "store_timezone": shop.timezone if shop is not None else "UTC",
            "store_language": shop.default_language if shop is not None else "en",
        }
        if visitor is None:
            return {
                "events": events,
                "page": None,
                "country": None,
                "timezone": None,
                "language": None,
                "email": None,
                **where,
            }
        page = None
        if visitor.page_url or visitor.product:
            page = {
                "url": visitor.page_url,
                "title": visitor.page_title,
                "product": visitor.product,
            }
        return {
            "events": events,
            "page": page,
            "country": visitor.country,
            "timezone": visitor.timezone,
            "language": visitor.language,
            "email": visitor.email,
            **where,
        }

    return await svc.db.read(query)


# How many recent events the bot reads to know where the conversation stands.
RECENT_EVENTS = 12


async def get_turn_context(
    svc: Services, *, store_id: int, conversation_id: int, seq: int
) -> dict[str, Any] | None:
    """What the bot needs to answer the shopper's message at `seq`: the store, the
    conversation and visitor, the product in view, the store's knowledge, and the events
    just before. None if the conversation is no longer with the bot (nor waiting in the
    queue outside business hours)."""

    def query(conn: Connection) -> dict[str, Any] | None:
        row = store.find_conversation(conn, store_id, conversation_id)
        if row is None or not bot_stands_in(conn, row, svc.clock.now()):
            return None
        shop = store_store.find_store(conn, store_id)
        visitor = store_store.find_visitor(conn, store_id, row.visitor_id)
        if shop is None or visitor is None:
            return None
        product = (
            store_store.find_product(conn, store_id, visitor.product) if visitor.product else None
        )
        recent = store.list_events(
            conn,
            conversation_id,
            visitor_id=row.visitor_id,
            after_seq=max(0, seq - RECENT_EVENTS),
            limit=RECENT_EVENTS,
        )
        return {
            "store": {
                "name": shop.name,
                "default_language": shop.default_language,
                # Read with the store's row, on every turn: a change applies at once, on
                # every node, for no extra query.
                "settings": dict(shop.settings or {}),
                "timezone": shop.timezone,
            },
            # "queued": it waits for a person outside business hours.
            "status": row.status,
            "team_id": row.team_id,
            "visitor_language": visitor.language,
            "visitor_country": visitor.country,
            "visitor_timezone": visitor.timezone,
            "visitor_email": visitor.email,
            "product": product,
            "knowledge": knowledge_store.list_entries(conn, store_id),
            # The version of the store's own intent model (0: it has none).
            "intent_model": intent_store.find_model_version(conn, store_id),
            "recent": [event for event in recent if event.seq < seq],
        }

    return await svc.db.read(query)


async def find_order(svc: Services, store_id: int, number: str) -> dict[str, Any] | None:
    """An order of the store by its number, for the bot to check against what the
    shopper proves (never shown before that), with its `source`."""
    return await svc.db.read(
        lambda conn: order_store.find_orders_by_numbers(conn, store_id, [number]).get(number)
    )


async def find_order_named(
    svc: Services, store_id: int, refs: list[OrderRef]
) -> tuple[str | None, dict[str, Any] | None]:
    """The store's order a shopper's message names, in whatever spelling (the
    store's number and the order), or the number it surely names that the store has
    no order of (and None); (None, None) when it names none."""
    return await svc.db.read(lambda conn: find_named_order(conn, store_id, refs))


async def find_orders_named(
    svc: Services, store_id: int, names: list[str]
) -> dict[str, dict[str, Any] | None]:
    """The orders a conversation named, by the store's numbers (for a context packet)."""
    return await svc.db.read(lambda conn: find_named_orders(conn, store_id, names))


async def do_change_address(svc: Services, store_id: int, number: str, address: str) -> bool:
    """Send an order that has not shipped to another address; False if it has (or is
    gone, or cancelled, or the store's shop keeps it: only a person changes those, in
    the shop). Checked and changed in one transaction; the address the order had is
    kept beside it."""

    def change(conn: Connection) -> bool:
        order = order_store.find_orders_by_numbers(conn, store_id, [number]).get(number)
        if order is None or order.get("status") != "processing" or kept_by_shop(order):
            return False
        order.pop("source")
        ship_to = dict(order.get("ship_to") or {})
        order["ship_to"] = {**ship_to, "address": address, "previous": ship_to or None}
        order["address_changed_on"] = svc.clock.now().date().isoformat()
        store_store.upsert_orders(conn, store_id, [order])
        return True

    return await svc.db.write(change)


async def find_products(svc: Services, store_id: int, slugs: list[str]) -> dict[str, Any]:
    """The store's products of these slugs (those it has), by slug."""

    def query(conn: Connection) -> dict[str, Any]:
        found = {slug: store_store.find_product(conn, store_id, slug) for slug in set(slugs)}
        return {slug: product for slug, product in found.items() if product is not None}

    return await svc.db.read(query)


async def do_cancel_order(svc: Services, store_id: int, number: str) -> bool:
    """Cancel an order of the built-in store that has not shipped; False if it has (or
    is gone, or was cancelled already, or the store's shop keeps it: only a person
    cancels those, in the shop). Checked and changed in one transaction."""

    def cancel(conn: Connection) -> bool:
        order = order_store.find_orders_by_numbers(conn, store_id, [number]).get(number)
        if order is None or order.get("status") != "processing" or kept_by_shop(order):
            return False
        order.pop("source")
        order["status"] = "cancelled"
        order["cancelled_on"] = svc.clock.now().date().isoformat()
        store_store.upsert_orders(conn, store_id, [order])
        return True

    return await svc.db.write(cancel)


def _proven_orders(conn: Connection, store_id: int, packet: dict[str, Any]) -> list[dict[str, Any]]:
    """The orders the shopper proved are theirs, for the store's priority rules."""
    found = []
    for named in packet.get("orders") or ():
        if named.get("verified"):
            order = store_store.find_order(conn, store_id, str(named.get("number")))
            if order is not None:
                found.append(order)
    return found
