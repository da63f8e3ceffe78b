"""The in-process event bus."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from portside.bus.memory import MemoryEventBus


class Recorder:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, topic: str, message: dict[str, Any]) -> None:
        self.received.append((topic, message))


async def test_publish_reaches_subscribers_of_the_topic_in_order() -> None:
    bus = MemoryEventBus()
    first, second = Recorder(), Recorder()
    bus.subscribe("store:1", first)
    bus.subscribe("store:1", second)
    for n in range(3):
        await bus.publish("store:1", {"n": n})
    expected = [("store:1", {"n": 0}), ("store:1", {"n": 1}), ("store:1", {"n": 2})]
    assert first.received == expected
    assert second.received == expected


async def test_publish_does_not_reach_other_topics() -> None:
    bus = MemoryEventBus()
    store_1, store_2 = Recorder(), Recorder()
    bus.subscribe("store:1", store_1)
    bus.subscribe("store:2", store_2)
    await bus.publish("store:2", {"n": 1})
    assert store_1.received == []
    assert store_2.received == [("store:2", {"n": 1})]


async def test_publish_without_subscribers_is_a_no_op() -> None:
    await MemoryEventBus().publish("store:9", {"n": 1})


async def test_closed_subscription_receives_nothing() -> None:
    bus = MemoryEventBus()
    gone, staying = Recorder(), Recorder()
    subscription = bus.subscribe("store:1", gone)
    bus.subscribe("store:1", staying)
    await bus.publish("store:1", {"n": 1})
    subscription.close()
    await bus.publish("store:1", {"n": 2})
    assert gone.received == [("store:1", {"n": 1})]
    assert staying.received == [("store:1", {"n": 1}), ("store:1", {"n": 2})]


async def test_closing_a_subscription_twice_is_harmless() -> None:
    bus = MemoryEventBus()
    recorder = Recorder()
    subscription = bus.subscribe("store:1", recorder)
    subscription.close()
    subscription.close()
    await bus.publish("store:1", {"n": 1})
    assert recorder.received == []


async def test_closed_bus_delivers_nothing() -> None:
    bus = MemoryEventBus()
    recorder = Recorder()
    bus.subscribe("store:1", recorder)
    await bus.close()
    await bus.publish("store:1", {"n": 1})
    assert recorder.received == []


async def test_failing_handler_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MemoryEventBus()
    before, after = Recorder(), Recorder()

    def broken(_topic: str, _message: dict[str, Any]) -> None:
        raise ValueError("handler bug")

    bus.subscribe("store:1", before)
    bus.subscribe("store:1", broken)
    bus.subscribe("store:1", after)
    with caplog.at_level(logging.ERROR, logger="portside.bus.memory"):
        await bus.publish("store:1", {"n": 1})
    assert before.received == [("store:1", {"n": 1})]
    assert after.received == [("store:1", {"n": 1})]
    [record] = caplog.records
    assert "store:1" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


async def test_handler_may_unsubscribe_while_being_called() -> None:
    bus = MemoryEventBus()
    later = Recorder()
    calls: list[int] = []

    def once(_topic: str, message: dict[str, Any]) -> None:
        calls.append(message["n"])
        subscription.close()

    subscription = bus.subscribe("store:1", once)
    bus.subscribe("store:1", later)
    await bus.publish("store:1", {"n": 1})
    await bus.publish("store:1", {"n": 2})
    assert calls == [1]
    assert later.received == [("store:1", {"n": 1}), ("store:1", {"n": 2})]
