"""Many callers' lookups answered by one query: what a node does when thousands of
widgets reconnect at once (a node died) and each asks the database the same question
about a different row.

A lookup made while none is running starts one at once, alone: a quiet node answers
as fast as before. Lookups made while one is running wait together and go in the next
query, so under a storm the queries grow as the node falls behind and their number
stays small.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Keys in one query at most: a bound list the database plans quickly.
MOST = 500


class Batcher(Generic[K, V]):
    """`get(key)` answered by `run(keys)`, which returns what it found by key (a key
    it leaves out is answered None). A failure of `run` is raised to each caller of
    that batch."""

    def __init__(self, run: Callable[[list[K]], Awaitable[dict[K, V]]], most: int = MOST) -> None:
        self._run = run
        self._most = most
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._runner: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._runner is None:
            self._runner = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: dict[K, list[asyncio.Future[V | None]]] = {}
        try:
            while self._waiting:
                keys = list(self._waiting)[: self._most]
                batch = {key: self._waiting.pop(key) for key in keys}
                try:
                    found = await self._run(keys)
                except Exception as exc:
                    for futures in batch.values():
                        _settle(futures, error=exc)
                    continue
                for key, futures in batch.items():
                    _settle(futures, value=found.get(key))
        finally:
            self._runner = None
            # Stopped from outside (the node is stopping): nobody is left waiting.
            for futures in [*batch.values(), *self._waiting.values()]:
                for future in futures:
                    future.cancel()
            self._waiting.clear()


def _settle(
    futures: list[asyncio.Future[V | None]],
    *,
    value: V | None = None,
    error: BaseException | None = None,
) -> None:
    for future in futures:
        if future.done():  # its caller was cancelled (the socket went away)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


__all__ = ["MOST", "Batcher"]
