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
from portside.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    RateLimited,
)
from portside.services._log import (
    Outcome,
    append_event,
    append_message,
    change_status,
    create_conversation,
    get_conversation,
    write,
)
from portside.services.attachments import (
    Sender,
    check_attachment_ids,
    claim_attachments,
    list_claimable,
)
from portside.services.context import Services
from portside.services.csat import request_rating
from portside.services.identity import AgentIdentity
from portside.services.opening import find_next_opening_cached
from portside.services.routing import do_route_queue, queue_and_route
from portside.services.translation import translate_reply
from portside.storage import conversation_store as store
from portside.storage import store_store, team_store

# Where a shopper's message, sent while the conversation is with the bot, is announced:
# the AI agent owes it a reply.
TURNS_TOPIC = "agent:turns"
# Where a handoff the bot did not make is announced: the AI agent writes its context
# packet for the person who takes the conversation.
HANDOFFS_TOPIC = "agent:handoffs"
# Where a shopper's message with attachments, sent while a person has the conversation,
# is announced: the AI agent reads them for the person.
ATTACHMENTS_TOPIC = "agent:attachments"
# Where an agent's reply is announced: the email relay sends it to a shopper who has
# left (services/email_out.py).
REPLIES_TOPIC = "conversation:replies"


@dataclass(frozen=True)
class SendResult:
    """The stored message, and whether it had been stored before (a retried send)."""

    event: Event
    duplicate: bool
    # Where the conversation stands after it (None for a duplicate).
    standing: Standing | None = None
    # The team whose queue the conversation is in, if any (its hours decide whether
    # the bot keeps answering while the conversation waits).
    team_id: int | None = None


async def do_send_visitor_message(
    svc: Services,
    *,
    store_id: int,
    visitor_id: int,
    client_id: object,
    text: object,
    conversation_id: int | None = None,
    via: str | None = None,
    attachments: object = None,
) -> SendResult:
    """A shopper's message: into the given conversation, or their latest, or a new one.
    `via` says how it came when not from the widget ("email", in its data).
    `attachments`: ids of the shopper's unsent uploads; the text may then be empty."""
    ids = check_attachment_ids(attachments)
    client_id, cleaned = _check_message(
        svc, client_id, text, svc.limiters.messages, f"visitor:{visitor_id}", bool(ids)
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
        carried = list_claimable(conn, store_id, ids, Sender(visitor_id=visitor_id))
        actor = Actor(ActorType.VISITOR, visitor_id)
        standing = Standing(Status(row.status), row.assignee_id)
        target = status_after_visitor_message(standing.status)
        if target is not None:
            new_events.append(change_status(svc, conn, row, actor, target, assignee=None))
            standing = Standing(target)
        message = append_message(
            svc,
            conn,
            row,
            actor,
            EventType.MESSAGE_CREATED,
            cleaned,
            client_id,
            {**({"via": via} if via else {}), **({"attachments": carried} if carried else {})}
            or None,
        )
        claim_attachments(conn, message, ids)
        new_events.append(message)
        return SendResult(message, False, standing, row.team_id), new_events, standing

    result = await write(svc, attempt)
    if result.standing is None:
        return result
    turn = {
        "store_id": store_id,
        "conversation_id": result.event.conversation_id,
        "visitor_id": visitor_id,
        "event_id": result.event.id,
        "seq": result.event.seq,
        "text": result.event.data["text"],
        "attachments": result.event.data.get("attachments") or [],
    }
    if await _bot_answers(svc, store_id, result):
        await svc.bus.publish(TURNS_TOPIC, turn, local=True)
    elif turn["attachments"]:
        # A person has the conversation: the agent still transcribes and describes for
        # them, and adds photos to the return case it opened (agent/media.py).
        await svc.bus.publish(ATTACHMENTS_TOPIC, turn, local=True)
    return result


async def _bot_answers(svc: Services, store_id: int, result: SendResult) -> bool:
    """The bot answers while it has the conversation, and while the conversation waits
    in the queue outside business hours (checked again, uncached, when it writes)."""
    status = result.standing.status if result.standing is not None else None
    if status is Status.BOT:
        return True
    if status is not Status.QUEUED:
        return False
    return await find_next_opening_cached(svc, store_id, result.team_id) is not None


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
        routed, standing = queue_and_route(svc, conn, row, actor, "asked_for_person")
        return routed[0], new_events + routed, standing

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
            local=True,
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
    translate: bool = False,
    attachments: object = None,
) -> SendResult:
    """An agent's reply (which takes an unassigned conversation) or internal note. With
    `translate`, the reply's text goes out in the shopper's language
    (services/translation.py), or not at all; its attachments go as they are."""
    ids = check_attachment_ids(attachments)
    if ids and note:
        raise InvalidRequest("Attachments go with messages to the shopper, not with notes.")
    client_id, cleaned = _check_message(
        svc, client_id, text, svc.limiters.agent_messages, f"agent:{agent.id}", bool(ids)
    )
    extra = None
    if note and translate:
        raise InvalidRequest("Notes are for agents only and are never translated.")
    if translate and cleaned:
        # Only the text is translated; attachments go as they are. A reply of
        # attachments alone has nothing to translate (an LLM asked to translate
        # nothing makes something up).
        cleaned, extra = await translate_reply(
            svc, agent, conversation_id=conversation_id, text=cleaned, client_id=client_id
        )

    def attempt(conn: Connection, careful: bool) -> Outcome[SendResult]:
        row = get_conversation(conn, agent.store_id, conversation_id)
        if careful:
            previous = store.find_event_by_client_id(conn, row.id, client_id)
            if previous is not None:
                return SendResult(store.event_from_row(previous, row.visitor_id), True), [], None
        carried = list_claimable(conn, agent.store_id, ids, Sender(agent_id=agent.id))
        actor = agent.actor
        new_events: list[Event] = []
        kind = EventType.NOTE_CREATED if note else EventType.MESSAGE_CREATED
        standing = Standing(Status(row.status), row.assignee_id)
        target = None if note else status_after_agent_reply(standing.status)
        if target is not None:
            new_events.append(change_status(svc, conn, row, actor, target, agent.id))
            standing = Standing(target, agent.id)
        data = {**(extra or {}), **({"attachments": carried} if carried else {})} or None
        message = append_message(svc, conn, row, actor, kind, cleaned, client_id, data)
        claim_attachments(conn, message, ids)
        new_events.append(message)
        return SendResult(message, False, standing), new_events, standing

    result = await write(svc, attempt)
    if not note and not result.duplicate:
        event = result.event
        await svc.bus.publish(
            REPLIES_TOPIC,
            {
                "store_id": event.store_id,
                "conversation_id": event.conversation_id,
                "visitor_id": event.visitor_id,
                "event_id": event.id,
                "text": event.data["text"],
                "agent": agent.name,
            },
        )
    return result


ACTIONS = ("resolve", "reopen", "take", "assign", "transfer", "handoff", "handback")
# Who may move a conversation someone else has.
SUPERVISORS = frozenset({"supervisor", "admin"})


async def do_change_status(
    svc: Services,
    agent: AgentIdentity,
    *,
    conversation_id: int,
    action: str,
    assignee_id: int | None = None,
    team_id: int | None = None,
) -> Event:
    """Resolve, reopen, take from the queue, assign (or transfer to a colleague, or put
    back in the queue), transfer to a team's queue, hand off or back to the bot.

    An agent acts on the conversations they have or that nobody has; supervisors and
    admins on any. Of two agents taking one queued conversation, exactly one gets it.
    """
    if action not in ACTIONS:
        raise NotFound(f"Unknown action {action!r}.")

    def attempt(conn: Connection, _careful: bool) -> Outcome[Event]:
        row = get_conversation(conn, agent.store_id, conversation_id)
        current = Status(row.status)
        if action == "take":
            return _take(svc, conn, row, agent)
        _check_may_move(conn, row, agent, action)
        if action in ("handoff", "transfer") or (action == "assign" and assignee_id is None):
            if action == "transfer":
                _check_team(conn, agent.store_id, team_id)
            check_transition(current, Status.QUEUED)
            events, standing = queue_and_route(
                svc,
                conn,
                row,
                agent.actor,
                "transferred" if action == "transfer" else "handed_off",
                team_id=team_id,
                keep_team=action != "transfer",
            )
            return events[-1], events, standing
        changes: dict[str, Any] = {}
        assignee: int | None = row.assignee_id
        if action == "resolve":
            target = Status.RESOLVED
            changes["resolved_at"] = svc.clock.now()
        elif action == "reopen":
            if current is not Status.RESOLVED:
                raise InvalidTransition("Only a resolved conversation can be reopened.")
            target, assignee = Status.ASSIGNED, agent.id
            changes["resolved_at"] = None
        elif action == "handback":
            target, assignee = Status.BOT, None
        else:
            target_agent = store_store.find_agent(conn, assignee_id)  # type: ignore[arg-type]
            if target_agent is None or target_agent.store_id != agent.store_id:
                raise NotFound("This agent does not exist.")
            if current is Status.ASSIGNED and row.assignee_id == assignee_id:
                raise InvalidTransition(f"This conversation is already with {target_agent.name}.")
            target, assignee = Status.ASSIGNED, assignee_id
        check_transition(current, target)
        event = change_status(svc, conn, row, agent.actor, target, assignee, **changes)
        if target is Status.RESOLVED:
            # The shopper is asked to rate it, in the same transaction (services/csat.py).
            return (
                event,
                [event, *request_rating(svc, conn, row, event, agent.id)],
                Standing(target, assignee),
            )
        return event, [event], Standing(target, assignee)

    try:
        event = await write(svc, attempt)
    except Conflict:
        if action != "take":
            raise
        # Another agent's take committed first (PostgreSQL): say who has it.
        name = await svc.db.read(
            lambda conn: _holder_name(conn, get_conversation(conn, agent.store_id, conversation_id))
        )
        raise Conflict(f"{name} has this conversation already.") from None
    if action != "take":
        # Room may have appeared (a resolve, a hand-back, a transfer away).
        await do_route_queue(svc, agent.store_id)
    return event


def _take(svc: Services, conn: Connection, row: Any, agent: AgentIdentity) -> Outcome[Event]:
    current = Status(row.status)
    if current is Status.ASSIGNED:
        raise Conflict(
            "You have this conversation already."
            if row.assignee_id == agent.id
            else f"{_holder_name(conn, row)} has this conversation already."
        )
    if current is Status.RESOLVED:
        raise InvalidTransition("A resolved conversation is reopened, not taken.")
    event = change_status(svc, conn, row, agent.actor, Status.ASSIGNED, agent.id, "taken")
    return event, [event], Standing(Status.ASSIGNED, agent.id)


def _holder_name(conn: Connection, row: Any) -> str:
    """Who has the conversation, to name in a refusal."""
    holder = store_store.find_agent(conn, row.assignee_id) if row.assignee_id else None
    return str(holder.name) if holder is not None else "Another agent"


def _check_may_move(conn: Connection, row: Any, agent: AgentIdentity, action: str) -> None:
    """An agent moves what is theirs or nobody's; a supervisor anything of the store."""
    if agent.role in SUPERVISORS or row.assignee_id in (None, agent.id):
        return
    if Status(row.status) is not Status.ASSIGNED:
        return
    raise Forbidden(
        f"{_holder_name(conn, row)} has this conversation; "
        f"only they or a supervisor can {action} it."
    )


def _check_team(conn: Connection, store_id: int, team_id: int | None) -> None:
    if team_id is None:
        raise InvalidRequest("A transfer names the team (team_id) whose queue it goes to.")
    if team_store.find_team(conn, store_id, team_id) is None:
        raise NotFound("This team does not exist.")


def record_context(
    svc: Services, conn: Connection, *, store_id: int, visitor_id: int, data: dict[str, Any]
) -> tuple[Event, Standing] | None:
    """Note in the visitor's open conversation where the shopper is now (agents only).

    Runs inside the caller's write transaction.
    """
    row = store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
    if row is None or Status(row.status) is Status.RESOLVED:
        return None
    event = append_event(svc, conn, row, Actor(ActorType.SYSTEM), EventType.CONTEXT_UPDATED, data)
    return event, Standing(Status(row.status), row.assignee_id)


def _check_message(
    svc: Services,
    client_id: object,
    text: object,
    limiter: SlidingWindowLimiter,
    key: str,
    with_attachments: bool = False,
) -> tuple[str, str]:
    """A send's client_id and trimmed text, once both are valid and the sender is in limits.
    With attachments, the text (a caption) may be empty."""
    checked_id = check_client_id(client_id)
    if with_attachments and (text is None or (isinstance(text, str) and not text.strip())):
        cleaned = ""
    else:
        cleaned = clean_text(text, svc.settings.limits.max_message_chars)
    retry = limiter.hit(key)
    if retry:
        raise RateLimited(
            f"Too many messages; wait {retry:.0f} s and send again.", retry_after=retry
        )
    return checked_id, cleaned
