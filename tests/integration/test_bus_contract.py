"""The contract every event bus keeps: memory always, Redis when PORTSIDE_TEST_REDIS_URL is set.

Absence is shown without sleeping: a bus keeps one publisher's order, so once a later
message has arrived an earlier one that was going to arrive would have.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from portside.bus.memory import MemoryEventBus
from portside.bus.redis import RedisEventBus
from portside.domain.ports import EventBus
from tests.support.server import redis_db

REDIS_URL = os.environ.get("PORTSIDE_TEST_REDIS_URL", "")
BACKENDS = ["memory"] + ([pytest.param("redis", marks=pytest.mark.redis)] if REDIS_URL else [])
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs PORTSIDE_TEST_REDIS_URL")

StartNode = Callable[[], Awaitable[EventBus]]


class Inbox:
    """A handler that records what it receives and lets a test wait for it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._arrived = asyncio.Event()

    def __call__(self, topic: str, message: dict[str, Any]) -> None:
        self.received.append((topic, message))
        self._arrived.set()

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [message for _topic, message in self.received]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def arrived(self, count: int, *, within: float) -> bool:
        try:
            await self.wait_for(count, within)
        except TimeoutError:
            return False
        return True


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def start_node(backend: str) -> AsyncIterator[StartNode]:
    """Starts buses that play the nodes of one deployment; closes them after the test."""
    buses: list[EventBus] = []

    async def start() -> EventBus:
        bus: EventBus = MemoryEventBus() if backend == "memory" else RedisEventBus(REDIS_URL)
        await bus.start()
        buses.append(bus)
        return bus

    yield start
    for bus in buses:
        await bus.close()


@pytest.fixture
async def bus(start_node: StartNode) -> EventBus:
    return await start_node()


@pytest.fixture
def topic() -> Callable[[str], str]:
    """Topic names of this test alone, so runs sharing a Redis do not meet."""
    prefix = f"test-{uuid.uuid4().hex}:"
    return lambda name: prefix + name


async def test_message_reaches_every_subscriber_of_its_topic_only(
    bus: EventBus, topic: Callable[[str], str]
) -> None:
    first, second, other = Inbox(), Inbox(), Inbox()
    bus.subscribe(topic("a"), first)
    bus.subscribe(topic("a"), second)
    bus.subscribe(topic("b"), other)
    await bus.flush()

    await bus.publish(topic("a"), {"n": 1})
    await bus.publish(topic("b"), {"n": 2})
    await first.wait_for(1)
    await second.wait_for(1)
    await other.wait_for(1)

    assert first.received == [(topic("a"), {"n": 1})]
    assert second.received == [(topic("a"), {"n": 1})]
    assert other.received == [(topic("b"), {"n": 2})]


async def test_many_messages_keep_their_order(bus: EventBus, topic: Callable[[str], str]) -> None:
    first, second = Inbox(), Inbox()
    bus.subscribe(topic("a"), first)
    bus.subscribe(topic("a"), second)
    await bus.flush()

    for n in range(1000):
        await bus.publish(topic("a"), {"n": n})
    await first.wait_for(1000)
    await second.wait_for(1000)

    assert [m["n"] for m in first.messages] == list(range(1000))
    assert [m["n"] for m in second.messages] == list(range(1000))


async def test_closed_subscription_receives_nothing_more(
    bus: EventBus, topic: Callable[[str], str]
) -> None:
    gone, staying = Inbox(), Inbox()
    subscription = bus.subscribe(topic("a"), gone)
    bus.subscribe(topic("a"), staying)
    await bus.flush()
    await bus.publish(topic("a"), {"n": 1})
    await gone.wait_for(1)

    subscription.close()
    subscription.close()  # harmless
    await bus.publish(topic("a"), {"n": 2})
    await staying.wait_for(2)

    assert gone.messages == [{"n": 1}]
    assert staying.messages == [{"n": 1}, {"n": 2}]


async def test_topic_without_subscribers_left_can_be_subscribed_again(
    bus: EventBus, topic: Callable[[str], str]
) -> None:
    gone, later, marker = Inbox(), Inbox(), Inbox()
    bus.subscribe(topic("marker"), marker)
    bus.subscribe(topic("a"), gone).close()
    await bus.flush()
    await bus.publish(topic("a"), {"n": 1})
    await bus.publish(topic("marker"), {"n": 1})
    await marker.wait_for(1)
    assert gone.received == []

    bus.subscribe(topic("a"), later)
    await bus.flush()
    await bus.publish(topic("a"), {"n": 2})
    await later.wait_for(1)
    assert later.messages == [{"n": 2}]
    assert gone.received == []


async def test_failing_handler_does_not_stop_delivery_to_the_others(
    bus: EventBus, topic: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    before, after = Inbox(), Inbox()

    def broken(_topic: str, _message: dict[str, Any]) -> None:
        raise ValueError("handler bug")

    bus.subscribe(topic("a"), before)
    bus.subscribe(topic("a"), broken)
    bus.subscribe(topic("a"), after)
    await bus.flush()
    with caplog.at_level(logging.ERROR, logger="portside.bus"):
        await bus.publish(topic("a"), {"n": 1})
        await bus.publish(topic("a"), {"n": 2})
        await after.wait_for(2)

    assert before.messages == [{"n": 1}, {"n": 2}]
    assert after.messages == [{"n": 1}, {"n": 2}]
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ValueError]
    assert len(failures) == 2
    assert all(topic("a") in r.getMessage() for r in failures)


async def test_a_node_hears_its_own_publish_at_once(
    bus: EventBus, topic: Callable[[str], str]
) -> None:
    inbox = Inbox()
    bus.subscribe(topic("a"), inbox)
    await bus.flush()
    await bus.publish(topic("a"), {"n": 1})
    # Delivered here within the call, not after a round trip through Redis.
    assert inbox.messages == [{"n": 1}]


async def test_local_publish_stays_on_this_node(
    backend: str, start_node: StartNode, topic: Callable[[str], str]
) -> None:
    node_1, node_2 = await start_node(), await start_node()
    here, there = Inbox(), Inbox()
    node_1.subscribe(topic("a"), here)
    node_2.subscribe(topic("a"), there)
    await node_1.flush()
    await node_2.flush()
    await node_1.publish(topic("a"), {"n": "local"}, local=True)
    await node_1.publish(topic("a"), {"n": "everywhere"})
    assert here.messages == [{"n": "local"}, {"n": "everywhere"}]
    if backend == "redis":
        await there.wait_for(1)
        await node_1.flush()
        assert there.messages == [{"n": "everywhere"}]


async def test_nodes_see_each_others_messages(
    backend: str, start_node: StartNode, topic: Callable[[str], str]
) -> None:
    if backend == "memory":
        pytest.skip("the memory bus serves one node by design")
    node_1, node_2 = await start_node(), await start_node()
    inbox_1, inbox_2 = Inbox(), Inbox()
    node_1.subscribe(topic("a"), inbox_1)
    node_2.subscribe(topic("a"), inbox_2)
    await node_1.flush()
    await node_2.flush()

    await node_1.publish(topic("a"), {"from": 1})
    await inbox_2.wait_for(1)
    await node_2.publish(topic("a"), {"from": 2})
    await inbox_1.wait_for(2)
    await inbox_2.wait_for(2)

    assert inbox_1.messages == [{"from": 1}, {"from": 2}]
    assert inbox_2.messages == [{"from": 1}, {"from": 2}]


async def test_unicode_and_nested_data_arrive_intact(
    bus: EventBus, topic: Callable[[str], str]
) -> None:
    message = {
        "text": "Wo ist mein Paket? 我的包裹在哪里？ أين طلبي؟ 🛒📦",
        "event": {
            "seq": 7,
            "actor": {"type": "visitor", "name": "Zoë Ñúñez"},
            "items": [{"sku": "TS-01", "qty": 2, "price": 19.5}, None, True, []],
            "meta": {},
        },
        "escapes": 'quote " backslash \\ newline \n tab \t nul \u0000 line-sep \u2028',
    }
    inbox = Inbox()
    bus.subscribe(topic("a"), inbox)
    await bus.flush()

    await bus.publish(topic("a"), message)
    await inbox.wait_for(1)

    assert inbox.messages == [message]


@needs_redis
@pytest.mark.redis
async def test_redis_bus_survives_a_dropped_connection(topic: Callable[[str], str]) -> None:
    name = f"portside-test-{uuid.uuid4().hex}"
    bus, other = RedisEventBus(REDIS_URL, name=name), RedisEventBus(REDIS_URL)
    admin = Redis.from_url(REDIS_URL, decode_responses=True)
    resumed_here, resumed_there = asyncio.Event(), asyncio.Event()
    bus.on_resume(resumed_here.set)
    other.on_resume(resumed_there.set)
    try:
        await bus.start()
        await other.start()
        inbox = Inbox()
        bus.subscribe(topic("a"), inbox)
        await bus.flush()
        await other.flush()
        [killed] = await _pubsub_client_ids(admin, name)
        # Filtered by id as well, so other runs sharing this Redis keep their connections.
        assert await admin.client_kill_filter(_type="pubsub", _id=killed) == 1

        # What the other node publishes during the outage is lost; keep publishing
        # until one arrives.
        async with asyncio.timeout(10):
            for n in itertools.count():
                await other.publish(topic("a"), {"n": n})
                if await inbox.arrived(1, within=0.05):
                    break
            # Both nodes are told to catch up from the log: this one missed the other's
            # messages, the other may have missed this one's.
            await resumed_here.wait()
            await resumed_there.wait()

        [replacement] = await _pubsub_client_ids(admin, name)
        assert replacement != killed
        await other.publish(topic("a"), {"n": "after"})
        await inbox.wait_for(len(inbox.received) + 1)
        assert inbox.messages[-1] == {"n": "after"}
    finally:
        await bus.close()
        await other.close()
        await admin.aclose()


async def _pubsub_client_ids(admin: Redis, name: str) -> list[str]:
    return [c["id"] for c in await admin.client_list(_type="pubsub") if c["name"] == name]


@needs_redis
async def test_deployments_on_other_redis_databases_do_not_hear_each_other(
    topic: Callable[[str], str],
) -> None:
    ours, theirs, our_peer = (
        RedisEventBus(redis_db(14)),
        RedisEventBus(redis_db(15)),
        RedisEventBus(redis_db(14)),
    )
    for bus in (ours, theirs, our_peer):
        await bus.start()
    try:
        heard_by_them, heard_by_peer = Inbox(), Inbox()
        theirs.subscribe(topic("a"), heard_by_them)
        our_peer.subscribe(topic("a"), heard_by_peer)
        await theirs.flush()
        await our_peer.flush()

        await ours.publish(topic("a"), {"n": 1})
        await heard_by_peer.wait_for(1)
        # The peer heard it, so a leak would have reached the other deployment by now.
        await theirs.flush()
        assert heard_by_them.messages == []
    finally:
        for bus in (ours, theirs, our_peer):
            await bus.close()
