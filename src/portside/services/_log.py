"""The write path every action on a conversation shares.

An action's `attempt` runs in one transaction and gives back its result, the events it
appended, and where the conversation stands after them; `write` runs it, retries it
carefully when a unique index refused a duplicate, and publishes the events only after
the commit. The helpers append events with the next seq.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import (
    PREVIEW_CHARS,
    Actor,
    ActorType,
    Event,
    EventType,
    Standing,
    Status,
)
from portside.errors import Conflict, NotFound
from portside.services.context import Services
from portside.storage import conversation_store as store
from portside.storage import store_store

T = TypeVar("T")

# What an attempt gives back: its result, the events it logged, and where their
# conversation stands after them (None when it logged nothing).
Outcome = tuple[T, list[Event], Standing | None]


async def write(svc: Services, attempt: Callable[[Connection, bool], Outcome[T]]) -> T:
    """Run `attempt` in a transaction, publish its events after commit.

    A retried send is rare, so the first attempt does not look for an earlier message
    with the same client_id: the unique index on (conversation, client_id) refuses the
    second copy, the transaction rolls back, and the careful retry finds the first.
    On PostgreSQL the same index settles two writers racing with one client_id.
    """
    for careful in (False, True, True):
        try:
            result, new_events, standing = await svc.db.write(
                functools.partial(_call, attempt, careful)
            )
        except IntegrityError:
            continue
        if standing is not None:
            await svc.publish_events(new_events, standing)
        return result
    raise Conflict("This message could not be stored; send it again.")


def _call(
    attempt: Callable[[Connection, bool], Outcome[T]], careful: bool, conn: Connection
) -> Outcome[T]:
    return attempt(conn, careful)


def get_conversation(conn: Connection, store_id: int, conversation_id: int) -> Any:
    row = store.find_conversation(conn, store_id, conversation_id)
    if row is None:
        raise NotFound("This conversation does not exist.")
    return row


def create_conversation(svc: Services, conn: Connection, store_id: int, visitor: Any) -> Event:
    now = svc.clock.now()
    conversation_id = store.insert_conversation(
        conn, store_id=store_id, visitor_id=visitor.id, now=now, language=visitor.language
    )
    seq = store.take_next_seq(conn, conversation_id, now)
    assert seq is not None
    return store.insert_event(
        conn,
        store_id=store_id,
        conversation_id=conversation_id,
        visitor_id=visitor.id,
        seq=seq,
        type=EventType.CONVERSATION_CREATED,
        actor=Actor(ActorType.VISITOR, visitor.id, visitor.name),
        data={"status": Status.BOT.value},
        now=now,
    )


def change_status(
    svc: Services,
    conn: Connection,
    row: Any,
    actor: Actor,
    target: Status,
    assignee: int | None,
    reason: str | None = None,
    **changes: Any,
) -> Event:
    """Move the conversation to `target`; `changes` to its row go with it. Refused with
    Conflict if another transaction changed its status since `row` was read."""
    now = svc.clock.now()
    assignee_data = None
    if assignee is not None:
        person = store_store.find_agent(conn, assignee)
        assignee_data = {"id": assignee, "name": person.name if person else None}
    data = {
        "from": row.status,
        "to": target.value,
        "assignee": assignee_data,
        **({"reason": reason} if reason else {}),
    }
    return append_event(
        svc,
        conn,
        row,
        actor,
        EventType.STATUS_CHANGED,
        data,
        now=now,
        expect_status=row.status,
        status=target.value,
        assignee_id=assignee,
        **changes,
    )


def append_message(
    svc: Services,
    conn: Connection,
    row: Any,
    actor: Actor,
    kind: EventType,
    text: str,
    client_id: str,
    extra: dict[str, Any] | None = None,
) -> Event:
    now = svc.clock.now()
    changes: dict[str, Any] = {}
    if kind is EventType.MESSAGE_CREATED:
        changes = {"preview": text[:PREVIEW_CHARS], "last_message_at": now}
        # The SLA clocks: a shopper's message waits until a person or the bot answers;
        # a person's first reply ends the first-response clock.
        if actor.type is ActorType.VISITOR:
            changes["awaiting_since"] = row.awaiting_since or now
        else:
            changes["awaiting_since"] = None
        if actor.type is ActorType.AGENT and row.first_reply_at is None:
            changes["first_reply_at"] = now
    data = {"text": text, "client_id": client_id, **(extra or {})}
    return append_event(svc, conn, row, actor, kind, data, client_id, now=now, **changes)


def append_event(
    svc: Services,
    conn: Connection,
    row: Any,
    actor: Actor,
    kind: EventType,
    data: dict[str, Any],
    client_id: str | None = None,
    *,
    now: datetime | None = None,
    expect_status: str | None = None,
    **changes: Any,
) -> Event:
    """The conversation's next event, its `changes` to the conversation's row made with
    it. With `client_id`, the unique index keeps one however often it is written."""
    now = now or svc.clock.now()
    seq = store.take_next_seq(conn, row.id, now, expect_status=expect_status, **changes)
    if seq is None:
        raise Conflict("Someone changed this conversation at the same moment; look at it again.")
    return store.insert_event(
        conn,
        store_id=row.store_id,
        conversation_id=row.id,
        visitor_id=row.visitor_id,
        seq=seq,
        type=kind,
        actor=actor,
        data=data,
        now=now,
        client_id=client_id,
    )
