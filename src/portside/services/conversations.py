"""Actions on conversations: the only code that writes events.

Each `do_*` runs one database transaction that changes a conversation and appends its
events, then publishes those events on the bus, only after the commit. Callers parse and
authorise; these functions enforce the conversation rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import (
    Actor,
    ActorType,
    Event,
    EventType,
    Standing,
    Status,
    check_client_id,
    check_transition,
    clean_text,
    status_after_agent_reply,
    status_after_visitor_message,
)
from portside.domain.ratelimit import SlidingWindowLimiter
from portside.errors import InvalidTransition, NotFound, RateLimited
from portside.services._log import (
    Outcome,
    append_message,
    change_status,
    create_conversation,
    get_conversation,
    write,
)
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import conversation_store as store
from portside.storage import store_store

# Where a shopper's message, sent while the conversation is with the bot, is announced:
# the AI agent owes it a reply.
TURNS_TOPIC = "agent:turns"
# Where a handoff the bot did not make is announced: the AI agent writes its context
# packet for the person who takes the conversation.
HANDOFFS_TOPIC = "agent:handoffs"


@dataclass(frozen=True)
class SendResult:
    """The stored message, and whether it had been stored before (a retried send)."""

    event: Event
    duplicate: bool
    # Where the conversation stands after it (None for a duplicate).
    standing: Standing | None = None


async def do_send_visitor_message(
    svc: Services,
    *,
    store_id: int,
    visitor_id: int,
    client_id: object,
    text: object,
    conversation_id: int | None = None,
) -> SendResult:
    """A shopper's message: into the given conversation, or their latest, or a new one."""
    client_id, cleaned = _check_message(
        svc, client_id, text, svc.limiters.messages, f"visitor:{visitor_id}"
    )

    def attempt(conn: Connection, careful: bool) -> Outcome[SendResult]:
        new_events: list[Event] = []
        if conversation_id is not None:
            row = store.find_conversation(conn, store_id, conversation_id)
            if row is None or row.visitor_id != visitor_id:
                raise NotFound("This conversation does not exist.")
        else:
            row = store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
        if row is None:
            # Only a first message needs the visitor's row. Locking it serialises two
            # first messages sent at once, so they cannot open two conversations.
            visitor = store_store.lock_visitor(conn, store_id, visitor_id)
            if visitor is None:
                raise NotFound("This visitor does not exist.")
            row = store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
            if row is None:
                created = create_conversation(svc, conn, store_id, visitor)
                new_events.append(created)
                row = store.find_conversation(conn, store_id, created.conversation_id)
                assert row is not None
        if careful:
            previous = store.find_event_by_client_id(conn, row.id, client_id)
            if previous is not None:
                return SendResult(store.event_from_row(previous, visitor_id), True), [], None
        actor = Actor(ActorType.VISITOR, visitor_id)
        standing = Standing(Status(row.status), row.assignee_id)
        target = status_after_visitor_message(standing.status)
        if target is not None:
            new_events.append(change_status(svc, conn, row, actor, target, assignee=None))
            standing = Standing(target)
        message = append_message(
            svc, conn, row, actor, EventType.MESSAGE_CREATED, cleaned, client_id
        )
        new_events.append(message)
        return SendResult(message, False, standing), new_events, standing

    result = await write(svc, attempt)
    if result.standing is not None and result.standing.status is Status.BOT:
        await svc.bus.publish(
            TURNS_TOPIC,
            {
                "store_id": store_id,
                "conversation_id": result.event.conversation_id,
                "visitor_id": visitor_id,
                "event_id": result.event.id,
                "seq": result.event.seq,
                "text": result.event.data["text"],
            },
        )
    return result


async def do_request_person(svc: Services, *, store_id: int, visitor_id: int) -> Event | None:
    """The shopper pressed "talk to a person": their open conversation (a new one if
    none) goes to the queue. None if a person already has it or it is queued."""

    def attempt(conn: Connection, _careful: bool) -> Outcome[Event | None]:
        new_events: list[Event] = []
        row = store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
        if row is None or Status(row.status) is Status.RESOLVED:
            visitor = store_store.lock_visitor(conn, store_id, visitor_id)
            if visitor is None:
                raise NotFound("This visitor does not exist.")
            created = create_conversation(svc, conn, store_id, visitor)
            new_events.append(created)
            row = store.find_conversation(conn, store_id, created.conversation_id)
            assert row is not None
        if Status(row.status) is not Status.BOT:
            return None, new_events, Standing(Status(row.status), row.assignee_id)
        actor = Actor(ActorType.VISITOR, visitor_id)
        event = change_status(svc, conn, row, actor, Status.QUEUED, None, "asked_for_person")
        new_events.append(event)
        return event, new_events, Standing(Status.QUEUED)

    handoff = await write(svc, attempt)
    if handoff is not None:
        await svc.bus.publish(
            HANDOFFS_TOPIC,
            {
                "store_id": store_id,
                "conversation_id": handoff.conversation_id,
                "event_id": handoff.id,
                "reason": "asked_for_person",
            },
        )
    return handoff


async def do_send_agent_message(
    svc: Services,
    agent: AgentIdentity,
    *,
    conversation_id: int,
    client_id: object,
    text: object,
    note: bool = False,
) -> SendResult:
    """An agent's reply (which takes an unassigned conversation) or internal note."""
    client_id, cleaned = _check_message(
        svc, client_id, text, svc.limiters.agent_messages, f"agent:{agent.id}"
    )

    def attempt(conn: Connection, careful: bool) -> Outcome[SendResult]:
        row = get_conversation(conn, agent.store_id, conversation_id)
        if careful:
            previous = store.find_event_by_client_id(conn, row.id, client_id)
            if previous is not None:
                return SendResult(store.event_from_row(previous, row.visitor_id), True), [], None
        actor = agent.actor
        new_events: list[Event] = []
        kind = EventType.NOTE_CREATED if note else EventType.MESSAGE_CREATED
        standing = Standing(Status(row.status), row.assignee_id)
        target = None if note else status_after_agent_reply(standing.status)
        if target is not None:
            new_events.append(change_status(svc, conn, row, actor, target, agent.id))
            standing = Standing(target, agent.id)
        message = append_message(svc, conn, row, actor, kind, cleaned, client_id)
        new_events.append(message)
        return SendResult(message, False, standing), new_events, standing

    return await write(svc, attempt)


ACTIONS = ("resolve", "reopen", "assign", "handoff", "handback")


async def do_change_status(
    svc: Services,
    agent: AgentIdentity,
    *,
    conversation_id: int,
    action: str,
    assignee_id: int | None = None,
) -> Event:
    """Resolve, reopen, assign (or transfer, or put back in the queue), hand off or back."""

    def attempt(conn: Connection, _careful: bool) -> Outcome[Event]:
        row = get_conversation(conn, agent.store_id, conversation_id)
        current = Status(row.status)
        assignee: int | None = row.assignee_id
        if action == "resolve":
            target = Status.RESOLVED
        elif action == "reopen":
            if current is not Status.RESOLVED:
                raise InvalidTransition("Only a resolved conversation can be reopened.")
            target, assignee = Status.ASSIGNED, agent.id
        elif action == "handoff":
            target, assignee = Status.QUEUED, None
        elif action == "handback":
            target, assignee = Status.BOT, None
        elif action == "assign" and assignee_id is None:
            target, assignee = Status.QUEUED, None
        elif action == "assign":
            target_agent = store_store.find_agent(conn, assignee_id)  # type: ignore[arg-type]
            if target_agent is None or target_agent.store_id != agent.store_id:
                raise NotFound("This agent does not exist.")
            if current is Status.ASSIGNED and row.assignee_id == assignee_id:
                raise InvalidTransition(f"This conversation is already with {target_agent.name}.")
            target, assignee = Status.ASSIGNED, assignee_id
        else:
            raise NotFound(f"Unknown action {action!r}.")
        check_transition(current, target)
        event = change_status(svc, conn, row, agent.actor, target, assignee)
        return event, [event], Standing(target, assignee)

    return await write(svc, attempt)


def record_context(
    svc: Services, conn: Connection, *, store_id: int, visitor_id: int, data: dict[str, Any]
) -> tuple[Event, Standing] | None:
    """Note in the visitor's open conversation where the shopper is now (agents only).

    Runs inside the caller's write transaction.
    """
    row = store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
    if row is None or Status(row.status) is Status.RESOLVED:
        return None
    now = svc.clock.now()
    seq = store.take_next_seq(conn, row.id, now)
    event = store.insert_event(
        conn,
        store_id=store_id,
        conversation_id=row.id,
        visitor_id=visitor_id,
        seq=seq,
        type=EventType.CONTEXT_UPDATED,
        actor=Actor(ActorType.SYSTEM),
        data=data,
        now=now,
    )
    return event, Standing(Status(row.status), row.assignee_id)


def _check_message(
    svc: Services, client_id: object, text: object, limiter: SlidingWindowLimiter, key: str
) -> tuple[str, str]:
    """A send's client_id and trimmed text, once both are valid and the sender is in limits."""
    checked_id = check_client_id(client_id)
    cleaned = clean_text(text, svc.settings.limits.max_message_chars)
    retry = limiter.hit(key)
    if retry:
        raise RateLimited(
            f"Too many messages; wait {retry:.0f} s and send again.", retry_after=retry
        )
    return checked_id, cleaned
