"""This node's part in keeping shoppers' online state true (services/visitor_presence.py).

- A widget's connection writes the shopper's `online_until` with the page view it records
  (do_identify_visitor), so a connect costs no extra statement; a widget back on the
  same page while its shopper's state lasts until this node's next round writes nothing
  and takes that state as this node's own (a dead node's widgets coming back at once).
- Every RENEW_S the shoppers with a widget open here are renewed, RENEW_CHUNK rows a
  statement: 10,000 shoppers on a node are ten short UPDATEs every 10 s.
- When a shopper's last widget here closes, their online state ends at once, unless
  another node wrote it after this one (they have a widget there). Widgets closing
  together (thousands, when a load balancer restarts) end in one transaction a batch.
  A node whose own renewal was earlier is told on LEFT_TOPIC and renews them at once,
  so a shopper with widgets on two nodes reads as offline for a moment at most, not
  until the next round.
- A stopping node ends nothing: its shoppers' widgets reconnect to another node, which
  renews them; those who left lapse within ONLINE_TTL_S, like those of a node that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import datetime
from typing import Any

from portside.domain.ports import Subscription
from portside.services import visitor_presence
from portside.services._batch import Batcher
from portside.services.context import Services

log = logging.getLogger(__name__)


class OnlineVisitors:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._tabs: Counter[int] = Counter()
        # The latest online_until this node wrote for each shopper it holds.
        self._written: dict[int, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        # Ends of widgets closing together go in one transaction (services/_batch.py).
        self._ends: Batcher[tuple[int, datetime], bool] = Batcher(
            lambda ends: visitor_presence.do_end_online_many(svc, ends)
        )

    def start(self) -> None:
        self._subscription = self.svc.bus.subscribe(visitor_presence.LEFT_TOPIC, self._on_left)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def leaving(self) -> None:
        """The node is stopping, before its widgets are closed: it ends nothing from now
        on (its shoppers reconnect to another node, which renews them)."""
        self._closing = True

    async def close(self) -> None:
        self.leaving()
        if self._subscription is not None:
            self._subscription.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._tasks):
            task.cancel()

    def until(self) -> datetime:
        """The online_until to write with a connecting widget's page view."""
        return visitor_presence.online_until(self.svc)

    def connected(self, visitor_id: int, written: datetime) -> None:
        """A widget of the shopper's is in session here; its connect wrote `written`."""
        self._tabs[visitor_id] += 1
        self._note(visitor_id, written)

    async def disconnected(self, visitor_id: int) -> None:
        self._tabs[visitor_id] -= 1
        if self._tabs[visitor_id] > 0:
            return
        del self._tabs[visitor_id]
        written = self._written.pop(visitor_id, None)
        if written is None or self._closing:
            return
        await self._end(visitor_id, written)

    async def _end(self, visitor_id: int, written: datetime) -> None:
        try:
            ended = await self._ends.get((visitor_id, written))
        except Exception:
            # The state lapses by itself within the TTL.
            log.exception("ending visitor %s's online state failed", visitor_id)
            return
        if ended:
            # A node with a widget of theirs that renewed earlier than this one renews
            # them again now.
            await self.svc.bus.publish(visitor_presence.LEFT_TOPIC, {"visitor_id": visitor_id})

    def is_here(self, visitor_id: int) -> bool:
        return visitor_id in self._tabs

    def _note(self, visitor_id: int, written: datetime) -> None:
        before = self._written.get(visitor_id)
        if before is None or written > before:
            self._written[visitor_id] = written

    def _on_left(self, _topic: str, message: dict[str, Any]) -> None:
        visitor_id = message.get("visitor_id")
        if not isinstance(visitor_id, int) or visitor_id not in self._tabs or self._closing:
            return
        task = asyncio.get_running_loop().create_task(self._renew([visitor_id]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(visitor_presence.RENEW_S)
            try:
                await self._renew(list(self._tabs))
            except Exception:
                # A database blip must not end online states for good; the next round retries.
                log.exception("renewing visitors' online state failed")

    async def _renew(self, visitor_ids: list[int]) -> None:
        written = await visitor_presence.do_renew_online(self.svc, visitor_ids)
        if written is None:
            return
        left = []
        for visitor_id in visitor_ids:
            if visitor_id in self._tabs:
                self._note(visitor_id, written)
            else:
                left.append(visitor_id)
        # Those whose last widget closed while the round was being written: the round
        # may have renewed them after their end, which expected less.
        for visitor_id in left:
            if not self._closing:
                await self._end(visitor_id, written)
