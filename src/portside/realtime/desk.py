"""This node's part in keeping the people side true: presence, grace, queue places.

- Presence: the agents with a console open here are renewed every RENEW_S (their
  presence lapses PRESENCE_TTL_S after the last renewal, so a dead node's agents go
  offline by themselves); a console's first connection and last disconnection are
  written at once. Activity from a console is noted and written in batches; an online
  agent idle past the store's `away_after_s` is set away, and back online by their next
  activity.
- Grace: conversations of agents gone past the store's grace go back to the queue.
- Routing: what waits is offered again every tick, whatever missed the moment.
- Queue places: after a status change in a store with shoppers connected here, each
  waiting shopper is sent their place and expected wait (only when it changed).
Every step is safe to run on several nodes at once: the writes expect what they read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from portside.realtime.hub import Hub
from portside.realtime.protocol import frame
from portside.services import presence
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.routing import do_route_queue, list_queue_places
from portside.storage import routing_store

log = logging.getLogger(__name__)

TICK_S = 1.0
RENEW_S = 10.0
# A status change is followed by others (a queued and an assigned event): one update.
PLACES_AFTER_S = 0.2


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
        hub.on_status_change = self.queue_changed

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._places_timer is not None:
            self._places_timer.cancel()

    async def connected(self, agent: AgentIdentity) -> None:
        self._consoles[agent.id] += 1
        self._agents[agent.id] = agent
        if self._consoles[agent.id] == 1:
            await presence.do_connect(self.svc, agent)

    async def disconnected(self, agent: AgentIdentity) -> None:
        self._consoles[agent.id] -= 1
        if self._consoles[agent.id] <= 0:
            del self._consoles[agent.id]
            self._agents.pop(agent.id, None)
            self._active.discard(agent.id)
            self._auto_away.discard(agent.id)
            await presence.do_disconnect(self.svc, agent)

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
        await presence.do_renew(self.svc, here if renew else [], sorted(active))
        if renew:
            for agent in await presence.list_idle(self.svc, here):
                if agent.id in self._agents:
                    self._auto_away.add(agent.id)
                    await presence.do_set_presence(
                        self.svc, self._agents[agent.id], "away", automatic=True
                    )
        await presence.do_requeue_absent(self.svc)
        stores = await self.svc.db.read(routing_store.list_stores_with_queue)
        for store_id in stores:
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
