"""Reading conversations and their logs, for agents and for shoppers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Event, format_time
from portside.errors import InvalidRequest, NotFound
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import conversation_store as store

MAX_EVENTS_PAGE = 500
MAX_INBOX_PAGE = 100


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    last_seq: int
    more: bool


async def list_inbox(
    svc: Services,
    agent: AgentIdentity,
    *,
    filter: str = "all",
    limit: int = 50,
    before: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of the inbox, newest activity first, and the cursor of the next page."""
    if filter not in store.INBOX_FILTERS:
        raise InvalidRequest(
            f"filter must be one of {', '.join(store.INBOX_FILTERS)}, not {filter!r}."
        )
    if not 1 <= limit <= MAX_INBOX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_INBOX_PAGE}.")

    def query(conn: Connection) -> list[Any]:
        cursor = None
        if before is not None:
            anchor = store.find_conversation(conn, agent.store_id, before)
            if anchor is None:
                raise InvalidRequest("before must be the id of a conversation in this inbox.")
            cursor = (anchor.updated_at, anchor.id)
        return store.list_conversations(
            conn,
            agent.store_id,
            filter=filter,
            agent_id=agent.id,
            limit=limit + 1,
            before=cursor,
        )

    rows = await svc.db.read(query)
    more = len(rows) > limit
    rows = rows[:limit]
    return [conversation_to_dict(r) for r in rows], (rows[-1].id if more else None)


async def get_conversation(svc: Services, store_id: int, conversation_id: int) -> dict[str, Any]:
    row = await svc.db.read(lambda conn: store.find_inbox_row(conn, store_id, conversation_id))
    if row is None:
        raise NotFound("This conversation does not exist.")
    return conversation_to_dict(row)


async def list_events(
    svc: Services,
    store_id: int,
    conversation_id: int,
    *,
    after_seq: int = 0,
    limit: int = 200,
    visitor_id: int | None = None,
    urgent: bool = False,
) -> EventPage:
    """Events after `after_seq`. With `visitor_id`, only what that shopper may see.
    `urgent` when they go straight to a client (storage/database.py)."""
    if after_seq < 0:
        raise InvalidRequest("after_seq cannot be negative.")
    if not 1 <= limit <= MAX_EVENTS_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_EVENTS_PAGE}.")

    def query(conn: Connection) -> tuple[Any, list[Event]]:
        row = store.find_conversation(conn, store_id, conversation_id)
        if row is None or (visitor_id is not None and row.visitor_id != visitor_id):
            raise NotFound("This conversation does not exist.")
        # Read up to the seq committed now; events written meanwhile come live.
        return row, store.list_events(
            conn,
            conversation_id,
            visitor_id=row.visitor_id,
            after_seq=after_seq,
            limit=limit + 1,
            upto_seq=row.last_seq,
            public_only=visitor_id is not None,
        )

    row, fetched = await svc.db.read(query, urgent=urgent)
    more = len(fetched) > limit
    fetched = fetched[:limit]
    last = fetched[-1].seq if more else max(row.last_seq, after_seq)
    return EventPage(fetched, last, more)


async def find_visitor_conversation(
    svc: Services, store_id: int, visitor_id: int
) -> dict[str, Any] | None:
    return await svc.db.read(lambda conn: load_visitor_conversation(conn, store_id, visitor_id))


def load_visitor_conversation(
    conn: Connection, store_id: int, visitor_id: int
) -> dict[str, Any] | None:
    """The shopper's latest conversation as their widget sees it (id, status, last_seq),
    inside the caller's transaction."""
    row = store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
    if row is None:
        return None
    return {"id": row.id, "status": row.status, "last_seq": row.last_seq}


def conversation_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "assignee": (
            {"id": row.assignee_id, "name": row.assignee_name} if row.assignee_id else None
        ),
        "last_seq": row.last_seq,
        "created_at": format_time(row.created_at),
        "updated_at": format_time(row.updated_at),
        "last_message_at": format_time(row.last_message_at) if row.last_message_at else None,
        "preview": row.preview,
        "language": row.language,
        "team_id": row.team_id,
        "priority": row.priority,
        # The SLA clocks (domain/sla.py): the console counts down from these.
        "queued_at": _time(row.queued_at),
        "handoff_at": _time(row.handoff_at),
        "first_reply_at": _time(row.first_reply_at),
        "awaiting_since": _time(row.awaiting_since),
        "resolved_at": _time(row.resolved_at),
        "visitor": {
            "id": row.visitor_id,
            "name": row.visitor_name,
            "email": row.visitor_email,
            "language": row.visitor_language,
            "country": row.visitor_country,
            "timezone": row.visitor_timezone,
            "page_url": row.visitor_page_url,
            "page_title": row.visitor_page_title,
            "product": row.visitor_product,
            "last_seen_at": format_time(row.visitor_last_seen_at),
            "first_seen_at": format_time(row.visitor_created_at),
        },
    }


def _time(at: Any) -> str | None:
    return format_time(at) if at is not None else None


async def last_seqs(svc: Services, store_id: int, conversation_ids: list[int]) -> dict[int, int]:
    """Of the given conversations, those of the store, each with its last seq."""
    return await svc.db.read(
        lambda conn: store.filter_store_conversations(conn, store_id, conversation_ids)
    )


async def get_conversation_visitor(svc: Services, store_id: int, conversation_id: int) -> int:
    row = await svc.db.read(lambda conn: store.find_conversation(conn, store_id, conversation_id))
    if row is None:
        raise NotFound("This conversation does not exist.")
    return int(row.visitor_id)
