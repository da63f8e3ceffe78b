"""Limits that hold across the nodes: a stranger gets the limit once, not once per node.

With a shared store (Redis, `PORTSIDE_REDIS_URL`), each hit is counted there by every
node. When the store cannot be reached, a node falls back to its own in-memory window
(fail open to the node's limit: a request is never refused because Redis is down), says
so once in its log, and tries the store again every RETRY_S.
"""

from __future__ import annotations

import logging

from portside.clock import Clock
from portside.domain.ratelimit import SharedWindows, SlidingWindowLimiter

log = logging.getLogger(__name__)

# While the shared store is unreachable, it is tried again this often (not on every hit:
# each try of an unreachable Redis may take its connect timeout).
RETRY_S = 5.0


class SharedState:
    """One node's view of its shared store: whether to use it, and its outage logged."""

    def __init__(self, windows: SharedWindows | None, clock: Clock) -> None:
        self.windows = windows
        self._clock = clock
        self._down_until: float | None = None

    def usable(self) -> bool:
        if self.windows is None:
            return False
        return self._down_until is None or self._clock.monotonic() >= self._down_until

    def failed(self, error: Exception) -> None:
        if self._down_until is None:
            log.warning(
                "rate limits are counted by this node alone until Redis answers again: %s: %s",
                type(error).__name__,
                error,
            )
        self._down_until = self._clock.monotonic() + RETRY_S

    def answered(self) -> None:
        if self._down_until is not None:
            log.warning("rate limits are counted by all the nodes again (Redis answers)")
            self._down_until = None

    @property
    def down(self) -> bool:
        return self._down_until is not None


class SharedLimiter:
    """At most `limit` hits per key in any `window_s` seconds, counted by every node."""

    def __init__(self, name: str, local: SlidingWindowLimiter, shared: SharedState) -> None:
        self.name = name
        self.local = local
        self.shared = shared

    @property
    def limit(self) -> int:
        return self.local.limit

    async def hit(self, key: str) -> float:
        """Count one hit; 0 if allowed, else the seconds until one would be."""
        windows = self.shared.windows
        if windows is not None and self.shared.usable():
            try:
                retry = await windows.hit(
                    f"{self.name}:{key}", limit=self.local.limit, window_s=self.local.window_s
                )
            except Exception as exc:  # whatever Redis raises, the request goes on
                self.shared.failed(exc)
            else:
                self.shared.answered()
                return retry
        return self.local.hit(key)
