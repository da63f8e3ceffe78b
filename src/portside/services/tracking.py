"""Shopping behaviour: storing what the widget reports, identifying logged-in
customers, and reading it back for the store (docs/api.md, docs/protocol.md).

After a batch commits, one `visitor:activity` message goes on the bus with the events
that were new (a client_id seen before is dropped): the trigger engine listens there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import format_time
from portside.domain.identify import check_customer, check_hash
from portside.domain.tracking import (
    EVENT_TYPES,
    TrackedEvent,
    check_batch,
    check_session_id,
)
from portside.errors import NotFound, RateLimited, field_error
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.tracking_settings import read_tracking
from portside.storage import store_store, tracking_store

ACTIVITY_TOPIC = "visitor:activity"
MAX_PAGE = 500


@dataclass(frozen=True)
class TrackResult:
    stored: int
    duplicates: int


async def do_track(
    svc: Services, *, store_id: int, visitor_id: int, session_id: object, events: object
) -> TrackResult:
    """Store a batch of a visitor's events in one transaction, each client_id once.

    Raises InvalidBatch/InvalidEvent (nothing stored), RateLimited, NotFound."""
    session = check_session_id(session_id)
    checked = check_batch(events)
    # Per visitor, whichever way the events come (socket or beacon, several tabs).
    retry = svc.limiters.track_events.hit_many(f"visitor:{visitor_id}", len(checked))
    if retry:
        raise RateLimited(
            f"Too many events from this visitor; wait {retry:.0f} s.", retry_after=retry
        )
    now = svc.clock.now()

    def store(conn: Connection) -> tuple[Any, list[tuple[int, TrackedEvent]]]:
        visitor = store_store.find_visitor(conn, store_id, visitor_id)
        if visitor is None:
            raise NotFound("This visitor does not exist.")
        stored = []
        for event in checked:
            new_id = tracking_store.insert_event(
                conn,
                store_id=store_id,
                visitor_id=visitor_id,
                session_id=session,
                type=event.type,
                client_id=event.client_id,
                url=event.url,
                data=event.data,
                at=now,
            )
            if new_id is not None:
                stored.append((new_id, event))
        # Only last_seen_at: the page columns are the widget's context.update's to
        # change, which tells the agents when they do (a page_view landing first would
        # leave it nothing to tell).
        store_store.update_visitor(conn, visitor_id, now=now)
        return visitor, stored

    visitor, stored = await svc.db.write(store)
    if stored:
        # Judged by this node's trigger engine only: the node the shopper's widget is
        # on (a beacon's node rebuilds the visitor from the log; fires are unique rows).
        await svc.bus.publish(
            ACTIVITY_TOPIC, activity_message(store_id, visitor, session, stored, now), local=True
        )
    return TrackResult(stored=len(stored), duplicates=len(checked) - len(stored))


def activity_message(
    store_id: int,
    visitor: Any,
    session_id: str,
    stored: list[tuple[int, TrackedEvent]],
    at: datetime,
) -> dict[str, Any]:
    """The bus message of docs/architecture.md ("visitor:activity")."""
    return {
        "kind": "activity",
        "store_id": store_id,
        "visitor_id": int(visitor.id),
        "session_id": session_id,
        "visitor": {
            "language": visitor.language,
            "country": visitor.country,
            "timezone": visitor.timezone,
            "created_at": format_time(visitor.created_at),
            "customer_id": visitor.customer_id,
            "tags": list(visitor.tags or []),
        },
        "events": [
            {
                "id": event_id,
                "type": event.type,
                "url": event.url,
                "data": event.data,
                "at": format_time(at),
            }
            for event_id, event in stored
        ],
    }


async def do_identify(
    svc: Services, *, store_id: int, visitor_id: int, customer: object, hash: object
) -> dict[str, Any]:
    """Mark the visitor as the store's customer, if the store's server signed the id.

    Raises InvalidCustomer, IdentifyRefused, RateLimited, NotFound."""
    checked = check_customer(customer)
    # Counted with the visitor's events: a script guessing hashes is slowed like a flood.
    retry = svc.limiters.track_events.hit_many(f"visitor:{visitor_id}", 1)
    if retry:
        raise RateLimited(
            f"Too many requests from this visitor; wait {retry:.0f} s.", retry_after=retry
        )
    now = svc.clock.now()

    def identify(conn: Connection) -> dict[str, Any]:
        section = store_store.find_settings_section(conn, store_id, "tracking")
        secret = read_tracking({"tracking": section or {}}).identify_secret
        check_hash(secret, checked.id, hash)
        if store_store.find_visitor(conn, store_id, visitor_id) is None:
            raise NotFound("This visitor does not exist.")
        changes: dict[str, Any] = {"customer_id": checked.id, "identified_at": now}
        if checked.email is not None:
            changes["email"] = checked.email
        if checked.name is not None:
            changes["name"] = checked.name
        if checked.tags is not None:
            changes["tags"] = list(checked.tags)
        store_store.update_visitor(conn, visitor_id, now=now, **changes)
        row = store_store.find_visitor(conn, store_id, visitor_id)
        assert row is not None
        return {
            "customer_id": row.customer_id,
            "email": row.email,
            "name": row.name,
            "tags": list(row.tags or []),
            "identified_at": format_time(now),
        }

    return await svc.db.write(identify)


def check_types(raw: str | None) -> tuple[str, ...]:
    """`type=page_view,add_to_cart` as a tuple of known types (empty: all)."""
    if not raw:
        return ()
    types = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [kind for kind in types if kind not in EVENT_TYPES]
    if unknown:
        raise field_error(
            "type",
            f"Unknown event type {unknown[0]!r}; the types are {', '.join(sorted(EVENT_TYPES))}.",
        )
    return types


async def list_visitor_events(
    svc: Services,
    agent: AgentIdentity,
    visitor_id: int,
    *,
    types: tuple[str, ...] = (),
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """One visitor's events, newest first, and the `before` of the next page (or None)."""

    def read(conn: Connection) -> list[Any] | None:
        if store_store.find_visitor(conn, agent.store_id, visitor_id) is None:
            return None
        return tracking_store.list_events(
            conn,
            agent.store_id,
            visitor_id=visitor_id,
            types=types,
            before=before,
            limit=limit + 1,
        )

    rows = await svc.db.read(read)
    if rows is None:
        raise NotFound("There is no such visitor in this store.")
    return _page(rows, limit)


async def list_store_events(
    svc: Services,
    agent: AgentIdentity,
    *,
    types: tuple[str, ...] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """The store's events, newest first, within [since, until)."""
    rows = await svc.db.read(
        lambda conn: tracking_store.list_events(
            conn,
            agent.store_id,
            types=types,
            since=since,
            until=until,
            before=before,
            limit=limit + 1,
        )
    )
    return _page(rows, limit)


def event_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "visitor_id": int(row.visitor_id),
        "session_id": row.session_id,
        "type": row.type,
        "client_id": row.client_id,
        "url": row.url,
        "data": row.data,
        "at": format_time(row.at),
    }


def _page(rows: list[Any], limit: int) -> tuple[list[dict[str, Any]], int | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    return [event_to_dict(row) for row in rows], int(rows[-1].id) if more else None
