"""Rate limits the nodes count together in Redis, on a redis-server of the test's own
(which it stops and starts again): one window for all the nodes, each node's own limit
while Redis is away, and the shared one again when it is back."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from portside.bus.redis_windows import RedisWindows
from portside.clock import ManualClock
from portside.domain.ratelimit import SlidingWindowLimiter
from portside.services.rate_limits import RETRY_S, SharedLimiter, SharedState
from tests.support.cluster import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(not os.access(REDIS_SERVER, os.X_OK), reason="needs redis-server")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def two_nodes(
    redis_server: RedisServer, clock: ManualClock
) -> AsyncIterator[list[SharedLimiter]]:
    """The login limit (3 a minute) of two nodes, as their Services build it."""
    windows = [RedisWindows(redis_server.url), RedisWindows(redis_server.url)]
    yield [
        SharedLimiter(
            "logins",
            SlidingWindowLimiter(clock, limit=3, window_s=60),
            SharedState(node_windows, clock),
        )
        for node_windows in windows
    ]
    for node_windows in windows:
        await node_windows.close()


async def test_two_nodes_count_in_one_window(two_nodes: list[SharedLimiter]) -> None:
    a, b = two_nodes
    waits = [await node.hit("jo@shop.example") for node in (a, b, a, b)]
    assert waits[:3] == [0, 0, 0]
    assert 59 < waits[3] <= 60  # the first hit leaves the window in a minute
    assert await a.hit("jo@shop.example") > 0
    assert await b.hit("someone-else@shop.example") == 0


async def test_the_window_slides_and_its_key_expires(redis_server: RedisServer) -> None:
    windows = RedisWindows(redis_server.url)
    raw = Redis.from_url(redis_server.url)
    try:
        assert await windows.hit("beacons:ip:10.0.0.9", limit=2, window_s=0.3) == 0
        assert await windows.hit("beacons:ip:10.0.0.9", limit=2, window_s=0.3) == 0
        assert await windows.hit("beacons:ip:10.0.0.9", limit=2, window_s=0.3) > 0
        # A batch is counted whole or not at all; one larger than the limit never fits.
        assert await windows.hit("track:1", limit=5, window_s=10, count=4) == 0
        assert await windows.hit("track:1", limit=5, window_s=10, count=2) > 0
        assert await windows.hit("track:1", limit=5, window_s=10, count=1) == 0
        assert await windows.hit("track:2", limit=5, window_s=10, count=6) == 10
        key = b"portside:0:rl:beacons:ip:10.0.0.9"
        assert 0 < await raw.pttl(key) <= 300
        await asyncio.sleep(0.35)  # the window passes
        assert await windows.hit("beacons:ip:10.0.0.9", limit=2, window_s=0.3) == 0
    finally:
        await raw.aclose()
        await windows.close()


async def test_while_redis_is_down_each_node_keeps_its_own_limit_and_says_so_once(
    two_nodes: list[SharedLimiter],
    redis_server: RedisServer,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = two_nodes
    assert [await a.hit("jo@shop.example") for _ in range(4)][3] > 0
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="portside.services.rate_limits"):
        # Never refused for Redis being away: each node counts alone, to its own limit.
        waits_a = [await a.hit("jo@shop.example") for _ in range(4)]
        waits_b = [await b.hit("jo@shop.example") for _ in range(4)]
    assert waits_a[:3] == waits_b[:3] == [0, 0, 0]
    assert waits_a[3] > 0 and waits_b[3] > 0
    alone = [r for r in caplog.records if "counted by this node alone" in r.getMessage()]
    assert len(alone) == 2  # once for each node, not once for each hit
    caplog.clear()

    redis_server.start()  # empty: what it counted is gone
    clock.advance(RETRY_S)
    with caplog.at_level(logging.WARNING, logger="portside.services.rate_limits"):
        waits = [await node.hit("ann@shop.example") for node in (a, b, a, b)]
    assert waits[:3] == [0, 0, 0] and waits[3] > 0
    assert any("by all the nodes again" in r.getMessage() for r in caplog.records)
