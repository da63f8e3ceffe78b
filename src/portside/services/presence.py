"""Agent presence: what an agent chose (online, away, offline), kept true by the nodes.

An agent's chosen status counts only while a console of theirs is open: each node renews
`presence_until` for the agents connected to it (realtime/desk.py), so an agent whose
node died is offline within PRESENCE_TTL_S. When their last console on a node closes,
that node says so on CLOSED_TOPIC (a node with another console of theirs renews it at
once) and a moment later ends their presence, unless a node renewed it since: so a
console closing on one node never takes offline an agent whose console is open on
another. After the store's grace period without a console, the agent's conversations go
back to the queue (`do_requeue_absent`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Actor, ActorType, Event, Standing, Status
from portside.domain.routing import Presence
from portside.errors import Conflict, InvalidRequest
from portside.services._log import get_conversation
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.routing import (
    PRESENCE_TTL_S,
    do_route_queue,
    effective_presence,
    queue_and_route,
)
from portside.services.routing_settings import read_routing
from portside.storage import presence_store, routing_store, store_store

PRESENCES = tuple(p.value for p in Presence)
# Where a node whose last console of an agent closed says so, for the other nodes.
CLOSED_TOPIC = "presence:agent-closed"


def parse_presence(value: object) -> Presence:
    if value not in PRESENCES:
        raise InvalidRequest(f"presence is one of {', '.join(PRESENCES)}, not {value!r}.")
    return Presence(str(value))


async def do_set_presence(
    svc: Services, agent: AgentIdentity, presence: object, *, automatic: bool = False
) -> Presence:
    """The agent's own choice (or the automatic away); tells the store's consoles."""
    chosen = parse_presence(presence)
    now = svc.clock.now()

    def update(conn: Connection) -> None:
        values: dict[str, Any] = {"presence": chosen.value}
        if not automatic:
            values["active_at"] = now
        store_store.update_agent(conn, agent.id, **values)

    await svc.db.write(update)
    await publish_presence(svc, agent.store_id, agent.id)
    if chosen is Presence.ONLINE:
        await do_route_queue(svc, agent.store_id)
    return chosen


async def do_connect(svc: Services, agent: AgentIdentity) -> datetime:
    """A console of the agent's opened. An agent who had none open anywhere comes
    online; one reconnecting keeps what they chose. The presence_until written."""
    now = svc.clock.now()
    until = now + timedelta(seconds=PRESENCE_TTL_S)

    def update(conn: Connection) -> None:
        row = store_store.find_agent(conn, agent.id)
        if row is None:
            return
        values: dict[str, Any] = {"presence_until": until, "active_at": now}
        if row.presence_until is None or row.presence_until <= now:
            values["presence"] = Presence.ONLINE.value
        store_store.update_agent(conn, agent.id, **values)

    await svc.db.write(update)
    await publish_presence(svc, agent.store_id, agent.id)
    await do_route_queue(svc, agent.store_id)
    return until


async def do_disconnect(
    svc: Services, agent: AgentIdentity, *, written: datetime | None = None
) -> bool:
    """The agent's consoles are closed: their presence ends now. With `written` (the
    latest presence_until this node wrote), only if no node renewed it later, that is,
    no console of theirs is open on another node. True if it ended."""
    now = svc.clock.now()

    def end(conn: Connection) -> bool:
        if written is None:
            store_store.update_agent(conn, agent.id, presence_until=now)
            return True
        return presence_store.end_agent_presence(conn, agent.id, written=written, now=now)

    ended = await svc.db.write(end)
    if ended:
        await publish_presence(svc, agent.store_id, agent.id)
    return ended


async def do_renew(svc: Services, agent_ids: list[int], active: list[int]) -> datetime | None:
    """A node's periodic renewal for the agents connected to it: the presence_until
    written (None if none was)."""
    if not agent_ids and not active:
        return None
    now = svc.clock.now()
    until = now + timedelta(seconds=PRESENCE_TTL_S)

    def update(conn: Connection) -> None:
        if agent_ids:
            routing_store.renew_presence(conn, agent_ids, until)
        if active:
            routing_store.mark_active(conn, active, now)

    await svc.db.write(update)
    return until if agent_ids else None


async def list_idle(svc: Services, agent_ids: list[int]) -> list[AgentIdentity]:
    """Of the given agents, those online but idle longer than their store allows."""
    if not agent_ids:
        return []
    now = svc.clock.now()

    def query(conn: Connection) -> list[AgentIdentity]:
        idle = []
        away_after: dict[int, int | None] = {}  # by store: its agents share it
        for row in routing_store.list_agents(conn, agent_ids):
            if row.presence != Presence.ONLINE.value or row.active_at is None:
                continue
            if row.store_id not in away_after:
                store = store_store.find_store(conn, row.store_id)
                away_after[row.store_id] = read_routing(
                    store.settings if store else None
                ).away_after_s
            after = away_after[row.store_id]
            if after is not None and row.active_at < now - timedelta(seconds=after):
                idle.append(AgentIdentity.from_row(row))
        return idle

    return await svc.db.read(query)


async def do_requeue_absent(svc: Services) -> int:
    """Conversations of agents gone longer than their store's grace go back to the
    queue (and to whoever can take them). The number moved."""
    now = svc.clock.now()
    rows = await svc.db.read(
        lambda conn: routing_store.list_conversations_of_absent_agents(conn, now)
    )
    moved = 0
    graces: dict[int, int] = {}
    for row in rows:
        if row.store_id not in graces:
            graces[row.store_id] = await _grace(svc, row.store_id)
        if row.presence_until > now - timedelta(seconds=graces[row.store_id]):
            continue
        if await _requeue(svc, row.store_id, row.id, row.assignee_id):
            moved += 1
    return moved


async def _grace(svc: Services, store_id: int) -> int:
    store = await svc.db.read(lambda conn: store_store.find_store(conn, store_id))
    return read_routing(store.settings if store else None).grace_s


async def _requeue(svc: Services, store_id: int, conversation_id: int, assignee_id: int) -> bool:
    def attempt(conn: Connection) -> tuple[list[Event], Standing] | None:
        row = get_conversation(conn, store_id, conversation_id)
        if row.status != Status.ASSIGNED.value or row.assignee_id != assignee_id:
            return None
        return queue_and_route(svc, conn, row, Actor(ActorType.SYSTEM), "agent_away")

    try:
        done = await svc.db.write(attempt)
    except Conflict:
        return False
    if done is None:
        return False
    await svc.publish_events(*done)
    return True


async def publish_presence(svc: Services, store_id: int, agent_id: int) -> None:
    now = svc.clock.now()
    row = await svc.db.read(lambda conn: store_store.find_agent(conn, agent_id))
    if row is None:
        return
    await svc.publish_signal(
        store_id,
        {"kind": "presence", "agent_id": agent_id, "presence": effective_presence(row, now).value},
    )
