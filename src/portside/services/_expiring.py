"""A node's short-lived copies of rows that rarely change (stores' opening hours, stores
by widget key): kept for a while, bounded in number, forgotten at once on a change."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from portside.clock import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """Values by key for `keep_s` each; at most `most` keys (the one put longest ago
    goes first)."""

    def __init__(self, clock: Clock, keep_s: float, most: int) -> None:
        self._clock = clock
        self._keep_s = keep_s
        self._most = most
        self._kept: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        kept = self._kept.get(key)
        if kept is None:
            return None
        if kept[0] <= self._clock.monotonic():
            del self._kept[key]
            return None
        return kept[1]

    def put(self, key: K, value: V) -> None:
        if key not in self._kept and len(self._kept) >= self._most:
            self._kept.pop(next(iter(self._kept)))
        self._kept.pop(key, None)
        self._kept[key] = (self._clock.monotonic() + self._keep_s, value)

    def drop(self, key: K) -> None:
        self._kept.pop(key, None)

    def forget_where(self, changed: Callable[[V], bool]) -> None:
        for key in [key for key, (_, value) in self._kept.items() if changed(value)]:
            del self._kept[key]
