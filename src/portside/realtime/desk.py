"""This node's part in keeping the people side true: presence, grace, queue places.

- Presence: the agents with a console open here are renewed every RENEW_S (their
  presence lapses PRESENCE_TTL_S after the last renewal, so a dead node's agents go
  offline by themselves); a console's first connection is written at once. When the
  last one here closes, the other nodes are told (one with a console of the agent's
  renews it at once) and ENDED_AFTER_S later the presence ends, if no node renewed it
  meanwhile (services/presence.py). A console reopened here within that moment (a page
  reload) keeps the presence without a flicker. Activity from a console is noted and
  written in batches; an online agent idle past the store's `away_after_s` is set away,
  and back online by their next activity.
- Grace: conversations of agents gone past the store's grace go back to the queue.
- Routing: what waits is offered again every tick, whatever missed the moment.
  Grace and routing are for the whole cluster: the node holding the lease "desk" does
  them (services/leases.py); every node renews its own agents and tells its shoppers.
- Queue places: after a status change in a store with shoppers connected here, each
  waiting shopper is sent their place and expected wait (only when it changed).
Every step is safe to run on several nodes at once: the writes expect what they read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from portside.domain.ports import Subscription
from portside.realtime.hub import Hub
from portside.realtime.protocol import frame
from portside.services import presence
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.leases import Lease
from portside.services.routing import do_route_queue, list_queue_places
from portside.storage import routing_store

log = logging.getLogger(__name__)

TICK_S = 1.0
RENEW_S = 10.0
# A status change is followed by others (a queued and an assigned event): one update.
PLACES_AFTER_S = 0.2
# Grace and routing pass to another node within this long of their node's death.
LEASE = "desk"
LEASE_TTL_S = 5.0
# After an agent's last console here closed, how long the other nodes have to renew
# the presence of an agent with a console open there, before this one ends it.
ENDED_AFTER_S = 1.0


class Desk:
    def __init__(self, svc: Services, hub: Hub) -> None:
        self.svc = svc
        self.hub = hub
        self._consoles: Counter[int] = Counter()
        self._agents: dict[int, AgentIdentity] = {}
        self._active: set[int] = set()
        self._auto_away: set[int] = set()
        self._places: dict[int, dict[int, tuple[Any, ...]]] = {}
        self._pending_places: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._places_timer: asyncio.TimerHandle | None = None
        self._lease = Lease(svc, LEASE, LEASE_TTL_S)
        # The latest presence_until this node wrote for each agent it has (or had until
        # a moment ago), and the ends waiting for the other nodes' renewals.
        self._written: dict[int, datetime] = {}
        self._ending: dict[int, asyncio.TimerHandle] = {}
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        hub.on_status_change = self.queue_changed

    def start(self) -> None:
        self._subscription = self.svc.bus.subscribe(presence.CLOSED_TOPIC, self._on_closed)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def leaving(self) -> None:
        """The node is stopping, before its consoles are closed: it ends no presence from
        now on. The consoles reconnect to another node, which renews their agents; the
        presence of agents who do not come back lapses within PRESENCE_TTL_S."""
        self._closed = True
        for timer in self._ending.values():
            timer.cancel()
        self._ending.clear()

    async def close(self) -> None:
        self.leaving()
        if self._subscription is not None:
            self._subscription.close()
        for task in list(self._tasks):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._places_timer is not None:
            self._places_timer.cancel()
        await self._lease.release()

    async def connected(self, agent: AgentIdentity) -> None:
        self._consoles[agent.id] += 1
        self._agents[agent.id] = agent
        ending = self._ending.pop(agent.id, None)
        if ending is not None:
            ending.cancel()
        if self._consoles[agent.id] == 1:
            self._note(agent.id, await presence.do_connect(self.svc, agent))

    async def disconnected(self, agent: AgentIdentity) -> None:
        self._consoles[agent.id] -= 1
        if self._consoles[agent.id] <= 0:
            del self._consoles[agent.id]
            self._agents.pop(agent.id, None)
            self._active.discard(agent.id)
            self._auto_away.discard(agent.id)
            if self._closed or agent.id not in self._written:
                return
            await self.svc.bus.publish(presence.CLOSED_TOPIC, {"agent_id": agent.id})
            self._ending[agent.id] = asyncio.get_running_loop().call_later(
                ENDED_AFTER_S, lambda: self._spawn(self._end(agent))
            )

    async def _end(self, agent: AgentIdentity) -> None:
        self._ending.pop(agent.id, None)
        if agent.id in self._consoles:
            return  # back here meanwhile
        written = self._written.pop(agent.id, None)
        if written is not None:
            await presence.do_disconnect(self.svc, agent, written=written)

    def _on_closed(self, _topic: str, message: dict[str, Any]) -> None:
        """Another node's last console of an agent closed: if one is open here, renew
        at once, before that node ends the presence."""
        agent_id = message.get("agent_id")
        if isinstance(agent_id, int) and agent_id in self._consoles and not self._closed:
            self._spawn(self._renew_now(agent_id))

    async def _renew_now(self, agent_id: int) -> None:
        self._note(agent_id, await presence.do_renew(self.svc, [agent_id], []))
        agent = self._agents.get(agent_id)
        if agent is not None:
            # Consoles that heard the presence end (had that node not waited long
            # enough) hear it is back.
            await presence.publish_presence(self.svc, agent.store_id, agent_id)

    def _note(self, agent_id: int, written: datetime | None) -> None:
        before = self._written.get(agent_id)
        if written is not None and (before is None or written > before):
            self._written[agent_id] = written

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("ending or renewing presence failed", exc_info=task.exception())

    async def active(self, agent: AgentIdentity) -> None:
        """A sign of the agent at the keyboard; ends an automatic away at once."""
        self._active.add(agent.id)
        if agent.id in self._auto_away:
            self._auto_away.discard(agent.id)
            await presence.do_set_presence(self.svc, agent, "online")

    def chose(self, agent: AgentIdentity) -> None:
        """The agent chose their presence: an automatic away no longer applies."""
        self._auto_away.discard(agent.id)

    def queue_changed(self, store_id: int) -> None:
        self._pending_places.add(store_id)
        if self._places_timer is None:
            self._places_timer = asyncio.get_running_loop().call_later(
                PLACES_AFTER_S, self._send_places_soon
            )

    def _send_places_soon(self) -> None:
        self._places_timer = None
        stores, self._pending_places = self._pending_places, set()
        for store_id in stores:
            asyncio.get_running_loop().create_task(self._send_places(store_id))

    async def _run(self) -> None:
        ticks_per_renewal = max(1, round(RENEW_S / TICK_S))
        tick = 0
        while True:
            await asyncio.sleep(TICK_S)
            tick += 1
            try:
                await self._tick(renew=tick % ticks_per_renewal == 0)
            except Exception:
                # A database blip must not end presence for good; the next tick retries.
                log.exception("desk tick failed")

    async def _tick(self, *, renew: bool) -> None:
        active, self._active = self._active, set()
        here = list(self._consoles)
        written = await presence.do_renew(self.svc, here if renew else [], sorted(active))
        if written is not None:
            for agent_id in here:
                # Also for one whose console closed meanwhile: their end must expect it.
                if agent_id in self._consoles or agent_id in self._ending:
                    self._note(agent_id, written)
        if renew:
            for agent in await presence.list_idle(self.svc, here):
                if agent.id in self._agents:
                    self._auto_away.add(agent.id)
                    await presence.do_set_presence(
                        self.svc, self._agents[agent.id], "away", automatic=True
                    )
        # Safe on every node at once (the writes expect what they read): the lease
        # only saves the database the repeats.
        routing = await self._lease.hold()
        if routing:
            await presence.do_requeue_absent(self.svc)
        if not (routing or renew):
            return
        stores = await self.svc.db.read(routing_store.list_stores_with_queue)
        for store_id in stores:
            if routing:
                await do_route_queue(self.svc, store_id)
            if renew:
                # Expected waits drift with time even when nothing moves.
                await self._send_places(store_id)

    async def _send_places(self, store_id: int) -> None:
        visitors = self.hub.connected_visitors(store_id)
        sent = self._places.setdefault(store_id, {})
        if not visitors and not sent:
            return
        places = await list_queue_places(self.svc, store_id)
        now_waiting = set()
        for place in places:
            visitor_id = place["visitor_id"]
            if visitor_id not in visitors:
                continue
            now_waiting.add(visitor_id)
            key = (place["position"], place["wait_s"], place["agents_online"])
            if sent.get(visitor_id) == key:
                continue
            sent[visitor_id] = key
            self.hub.send_to_visitor(
                store_id,
                visitor_id,
                frame(
                    "queue",
                    conversation_id=place["conversation_id"],
                    position=place["position"],
                    wait_s=place["wait_s"],
                    agents_online=place["agents_online"],
                ),
            )
        for visitor_id in set(sent) - now_waiting:
            del sent[visitor_id]
