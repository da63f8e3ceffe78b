"""Routing: a conversation that needs a person goes to one who can take it, or waits.

`queue_and_route` runs inside the transaction of whatever puts a conversation in the
queue (the shopper's button, the bot's handoff, an agent's handoff or transfer): the
queued event and, when an agent can take it at once, the assignment are committed
together, so the chosen agent's console hears of it with the first publish. What waits
is routed by `do_route_queue` whenever room appears (an agent comes online, resolves,
hands back, transfers away) and by the node's routing loop as a safety net.

Two agents on two nodes cannot be given one conversation: every status change expects
the status it read (conversation_store.take_next_seq), and an agent's row is locked
while their load is counted (routing_store.lock_agent_load).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Actor, ActorType, Event, Standing, Status
from portside.domain.routing import (
    Candidate,
    Presence,
    Waiting,
    can_take,
    choose_agent,
    expected_wait_s,
    plan,
    positions,
    priority_of,
)
from portside.errors import Conflict
from portside.services._log import change_status, get_conversation
from portside.services.context import Services
from portside.services.routing_settings import read_routing
from portside.storage import routing_store, store_store

ROUTER = Actor(ActorType.SYSTEM)
# An agent the routing loop sees no sign of for this long after their node's last
# renewal counts as offline (a node renews its agents every few seconds).
PRESENCE_TTL_S = 30


def candidates(conn: Connection, store_id: int, now: datetime) -> list[Candidate]:
    return [
        candidate_from_row(row, now) for row in routing_store.list_agents_with_load(conn, store_id)
    ]


def candidate_from_row(row: Any, now: datetime) -> Candidate:
    return Candidate(
        id=int(row.id),
        presence=effective_presence(row, now),
        languages=frozenset(str(code) for code in row.languages or ()),
        teams=frozenset(int(t) for t in row.teams or ()),
        max_concurrent=int(row.max_concurrent),
        load=int(row.load),
    )


def effective_presence(row: Any, now: datetime) -> Presence:
    """What the agent chose, while a console of theirs is open somewhere."""
    if row.presence_until is None or row.presence_until <= now:
        return Presence.OFFLINE
    return Presence(row.presence)


def waiting_from_row(row: Any) -> Waiting:
    return Waiting(
        conversation_id=int(row.id),
        language=row.language or getattr(row, "visitor_language", None),
        team_id=row.team_id,
        priority=int(row.priority or 0),
        queued_at=row.queued_at or row.updated_at,
        passed_by=row.passed_by,
    )


def queue_and_route(
    svc: Services,
    conn: Connection,
    row: Any,
    actor: Actor,
    reason: str,
    *,
    orders: Iterable[dict[str, Any]] = (),
    team_id: int | None = None,
    keep_team: bool = True,
) -> tuple[list[Event], Standing]:
    """Put the conversation in the queue, and give it to an agent if one can take it;
    never straight back to the agent who had it (they are handing it on)."""
    previous = row.assignee_id
    now = svc.clock.now()
    store = store_store.find_store(conn, row.store_id)
    settings = read_routing(store.settings if store is not None else None)
    priority = max(int(row.priority or 0), priority_of(settings.priority_rules, orders))
    queued = change_status(
        svc,
        conn,
        row,
        actor,
        Status.QUEUED,
        None,
        reason,
        queued_at=now,
        passed_by=previous,
        handoff_at=row.handoff_at or now,
        priority=priority,
        team_id=row.team_id if keep_team and team_id is None else team_id,
    )
    row = get_conversation(conn, row.store_id, row.id)
    assigned = route_one(svc, conn, row, store.default_language if store else "en", now)
    if assigned is None:
        return [queued], Standing(Status.QUEUED)
    return [queued, assigned], Standing(Status.ASSIGNED, assigned.data["assignee"]["id"])


def would_route(conn: Connection, row: Any, now: datetime) -> bool:
    """Whether an agent could take the conversation this moment, were it handed off."""
    store = store_store.find_store(conn, row.store_id)
    default_language = store.default_language if store else "en"
    waiting = replace(waiting_from_row(row), queued_at=now, passed_by=row.assignee_id)
    return choose_agent(waiting, candidates(conn, row.store_id, now), default_language) is not None


def route_one(
    svc: Services,
    conn: Connection,
    row: Any,
    default_language: str,
    now: datetime,
) -> Event | None:
    """Give a queued conversation to the best agent who can take it now, if any."""
    waiting = waiting_from_row(row)
    pool = candidates(conn, row.store_id, now)
    while True:
        chosen = choose_agent(waiting, pool, default_language)
        if chosen is None:
            return None
        load = routing_store.lock_agent_load(conn, chosen.id)
        if load < chosen.max_concurrent:
            return change_status(svc, conn, row, ROUTER, Status.ASSIGNED, chosen.id, "routed")
        # Another transaction filled their last place meanwhile: try the next agent.
        pool = [c for c in pool if c.id != chosen.id]


async def do_route_queue(svc: Services, store_id: int) -> int:
    """Give what waits in the store's queue to the agents who can take it now; the
    number of conversations given."""

    def attempt(conn: Connection) -> list[tuple[Event, Standing]]:
        now = svc.clock.now()
        queue = routing_store.list_queue(conn, store_id)
        if not queue:
            return []
        store = store_store.find_store(conn, store_id)
        default_language = store.default_language if store else "en"
        pool = candidates(conn, store_id, now)
        given: list[tuple[Event, Standing]] = []
        for waiting, chosen in plan(
            [waiting_from_row(r) for r in queue], pool, default_language, now
        ):
            if routing_store.lock_agent_load(conn, chosen.id) >= chosen.max_concurrent:
                continue
            row = get_conversation(conn, store_id, waiting.conversation_id)
            if row.status != Status.QUEUED.value:
                continue
            event = change_status(svc, conn, row, ROUTER, Status.ASSIGNED, chosen.id, "routed")
            given.append((event, Standing(Status.ASSIGNED, chosen.id)))
        return given

    try:
        given = await svc.db.write(attempt)
    except Conflict:
        # Another node routed one of them at the same moment; the next pass sees it.
        return 0
    for event, standing in given:
        await svc.publish_events([event], standing)
    return len(given)


def priority_of_orders(conn: Connection, store_id: int, orders: list[dict[str, Any]]) -> int:
    store = store_store.find_store(conn, store_id)
    settings = read_routing(store.settings if store is not None else None)
    return priority_of(settings.priority_rules, orders)


async def get_queue_length(svc: Services) -> int:
    """Conversations waiting for a person in every store: an operator's figure."""
    return await svc.db.read(routing_store.count_queued)


async def list_queue_places(svc: Services, store_id: int) -> list[dict[str, Any]]:
    """Each queued conversation's place in its queue and an honest expected wait
    (None when no agent who could take it is online), for the shoppers who wait."""

    def query(conn: Connection) -> list[dict[str, Any]]:
        queue = routing_store.list_queue(conn, store_id)
        if not queue:
            return []
        now = svc.clock.now()
        store = store_store.find_store(conn, store_id)
        default_language = store.default_language if store else "en"
        pool = [c for c in candidates(conn, store_id, now) if c.presence is Presence.ONLINE]
        waits = routing_store.recent_waits(conn, store_id, now - timedelta(hours=24))
        waiting = [waiting_from_row(r) for r in queue]
        places = positions(waiting)
        visitors = {int(r.id): int(r.visitor_id) for r in queue}
        out = []
        for w in waiting:
            # Who could take it once they have room: the same rule without the room.
            able = sum(
                1
                for c in pool
                if can_take(replace(c, load=0, max_concurrent=1), w, default_language)
            )
            place = places[w.conversation_id]
            out.append(
                {
                    "conversation_id": w.conversation_id,
                    "visitor_id": visitors[w.conversation_id],
                    "position": place,
                    "wait_s": expected_wait_s(place, waits, able),
                    "agents_online": able,
                }
            )
        return out

    return await svc.db.read(query)
