"""The interfaces adapters implement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

BusHandler = Callable[[str, dict[str, Any]], None]


class Subscription(Protocol):
    def close(self) -> None: ...


class EventBus(Protocol):
    """Fan-out of committed events (and ephemeral signals such as typing) to every node.

    Messages are JSON-ready dicts. Delivery to a subscriber keeps the order of publishes
    made by one publisher; anything missed is recovered from the database by `seq`.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: BusHandler) -> Subscription: ...

    async def flush(self) -> None:
        """Wait until every `subscribe` and `close` made so far is in effect.

        A publish made after `flush` returns reaches the new subscribers (and no longer
        the closed ones), on this node and on every other.
        """
        ...
