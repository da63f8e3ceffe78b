"""Lookups batched: callers waiting together share one query, each gets its own answer,
and a failure reaches exactly the callers of the batch it broke."""

from __future__ import annotations

import asyncio

import pytest

from portside.services._batch import Batcher


class Squares:
    """A lookup that records each batch it is asked, and can be held or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_next = False

    async def run(self, keys: list[int]) -> dict[int, int]:
        self.batches.append(list(keys))
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the database went away")
        return {key: key * key for key in keys if key >= 0}


async def test_a_lone_lookup_runs_at_once_and_gets_its_answer() -> None:
    squares = Squares()
    batcher = Batcher(squares.run)
    assert await batcher.get(7) == 49
    assert squares.batches == [[7]]


async def test_lookups_made_while_one_runs_go_together_in_the_next() -> None:
    squares = Squares()
    squares.gate.clear()
    batcher = Batcher(squares.run)
    first = asyncio.create_task(batcher.get(1))
    await asyncio.sleep(0)  # the first query is under way, held
    rest = [asyncio.create_task(batcher.get(n)) for n in (2, 3, 3, -1)]
    await asyncio.sleep(0)
    squares.gate.set()
    assert await first == 1
    assert [await task for task in rest] == [4, 9, 9, None]  # a key not found is None
    assert squares.batches == [[1], [2, 3, -1]]  # the same key asked once


async def test_a_batch_holds_at_most_so_many_keys() -> None:
    squares = Squares()
    squares.gate.clear()
    batcher = Batcher(squares.run, most=3)
    tasks = [asyncio.create_task(batcher.get(n)) for n in range(8)]
    await asyncio.sleep(0)
    squares.gate.set()
    assert [await task for task in tasks] == [n * n for n in range(8)]
    # All eight asked before the first query began.
    assert [len(batch) for batch in squares.batches] == [3, 3, 2]


async def test_a_failed_batch_fails_its_callers_only() -> None:
    squares = Squares()
    squares.gate.clear()
    batcher = Batcher(squares.run)
    first = asyncio.create_task(batcher.get(1))
    await asyncio.sleep(0)
    squares.fail_next = True
    second = asyncio.create_task(batcher.get(2))
    await asyncio.sleep(0)
    squares.gate.set()
    with pytest.raises(RuntimeError, match="went away"):
        await first
    assert await second == 4
    assert await batcher.get(5) == 25  # and the batcher goes on


async def test_a_caller_that_gives_up_leaves_the_others_their_answers() -> None:
    squares = Squares()
    squares.gate.clear()
    batcher = Batcher(squares.run)
    held = asyncio.create_task(batcher.get(1))
    await asyncio.sleep(0)
    gone = asyncio.create_task(batcher.get(2))
    stays = asyncio.create_task(batcher.get(2))
    await asyncio.sleep(0)
    gone.cancel()
    squares.gate.set()
    assert await held == 1
    assert await stays == 4
    assert gone.cancelled()


async def test_stopping_the_lookup_cancels_whoever_waits_on_it() -> None:
    squares = Squares()
    squares.gate.clear()
    batcher = Batcher(squares.run)
    running = asyncio.create_task(batcher.get(1))
    await asyncio.sleep(0)
    queued = asyncio.create_task(batcher.get(2))
    await asyncio.sleep(0)
    runner = batcher._runner
    assert runner is not None
    runner.cancel()
    for task in (running, queued):
        with pytest.raises(asyncio.CancelledError):
            await task
    squares.gate.set()
    assert await batcher.get(3) == 9  # a new lookup starts a new runner
