"""The in-process event bus: the embedded default, for one node."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from portside.domain.ports import BusHandler

log = logging.getLogger(__name__)


class _MemorySubscription:
    def __init__(self, bus: MemoryEventBus, topic: str, handler: BusHandler) -> None:
        self._bus = bus
        self._topic = topic
        self._handler = handler

    def close(self) -> None:
        self._bus._remove(self._topic, self._handler)


class MemoryEventBus:
    """Calls subscribers' handlers directly, in publish order.

    Handlers must not block: they hand the message to a queue and return.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[BusHandler]] = defaultdict(list)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()

    async def publish(self, topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        for handler in tuple(self._handlers.get(topic, ())):
            try:
                handler(topic, message)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("bus handler failed on %s", topic)

    async def flush(self) -> None:
        return None  # subscribe and close take effect at once

    def on_resume(self, callback: Callable[[], None]) -> None:
        return None  # one process: there is no link to lose

    def subscribe(self, topic: str, handler: BusHandler) -> _MemorySubscription:
        self._handlers[topic].append(handler)
        return _MemorySubscription(self, topic, handler)

    def _remove(self, topic: str, handler: BusHandler) -> None:
        handlers = self._handlers.get(topic)
        if handlers and handler in handlers:
            handlers.remove(handler)
            if not handlers:
                del self._handlers[topic]
