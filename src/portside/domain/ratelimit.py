"""Sliding-window rate limits: kept in memory on one node, or counted by all the nodes
together in a store they share (`SharedWindows`, Redis: bus/redis_windows.py)."""

from __future__ import annotations

from collections import deque
from typing import Protocol

from portside.clock import Clock


class SharedWindows(Protocol):
    """Sliding windows that every node counts in, with SlidingWindowLimiter's rules."""

    async def hit(self, key: str, *, limit: int, window_s: float, count: int = 1) -> float:
        """Count `count` hits on `key`, all or none; 0 if allowed, else the seconds
        until they would be. Raises when the store cannot be reached."""
        ...


class SlidingWindowLimiter:
    """At most `limit` hits per key in any `window_s` seconds."""

    def __init__(self, clock: Clock, *, limit: int, window_s: float, max_keys: int = 100_000):
        self._clock = clock
        self.limit = limit
        self.window_s = window_s
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float:
        """Count one hit; return 0 if allowed, else the seconds until one would be."""
        now = self._clock.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window_s - now
        hits.append(now)
        return 0.0

    def hit_many(self, key: str, count: int) -> float:
        """Count `count` hits at once, all or none (a batch of tracked events); 0 if
        allowed, else the seconds until they would be (a batch above `limit` never is:
        the whole window)."""
        now = self._clock.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if count > self.limit:
            return self.window_s
        over = len(hits) + count - self.limit
        if over > 0:
            return hits[over - 1] + self.window_s - now
        hits.extend([now] * count)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]:
            del self._hits[key]
