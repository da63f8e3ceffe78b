"""The node's metrics: what each count means, bounded labels, one registry per app."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from portside.domain.conversations import Actor, ActorType, Event, EventType
from portside.node_metrics import MAX_LABEL_VALUES, NodeMetrics

_ids = itertools.count(1)


def event(kind: EventType, actor: ActorType = ActorType.VISITOR, **data: Any) -> Event:
    n = next(_ids)
    return Event(
        id=n,
        store_id=1,
        conversation_id=1,
        visitor_id=1,
        seq=n,
        type=kind,
        at=datetime(2025, 1, 1, tzinfo=UTC),
        actor=Actor(actor),
        data=data,
    )


def moved(start: str, to: str, reason: str | None = None) -> Event:
    data: dict[str, Any] = {"from": start, "to": to, "assignee": None}
    if reason is not None:
        data["reason"] = reason
    return event(EventType.STATUS_CHANGED, ActorType.SYSTEM, **data)


def samples(metrics: NodeMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the scrape, by name and labels."""
    text = metrics.render().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: NodeMetrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def test_messages_are_counted_by_author_and_every_event_by_type() -> None:
    metrics = NodeMetrics()
    for author in (ActorType.VISITOR, ActorType.VISITOR, ActorType.BOT, ActorType.AGENT):
        metrics.event_published(event(EventType.MESSAGE_CREATED, author, text="hi"))
    metrics.event_published(event(EventType.NOTE_CREATED, ActorType.AGENT, text="internal"))
    metrics.event_published(event(EventType.CONVERSATION_CREATED))

    assert value(metrics, "portside_messages_total", author="visitor") == 2
    assert value(metrics, "portside_messages_total", author="bot") == 1
    assert value(metrics, "portside_messages_total", author="agent") == 1
    assert value(metrics, "portside_messages_total", author="system") == 0
    assert value(metrics, "portside_events_published_total", type="message.created") == 4
    assert value(metrics, "portside_events_published_total", type="note.created") == 1
    assert value(metrics, "portside_events_published_total", type="conversation.created") == 1


def test_a_handoff_is_a_conversation_leaving_the_bot_for_a_person() -> None:
    metrics = NodeMetrics()
    metrics.event_published(moved("bot", "queued", "asked_for_person"))
    metrics.event_published(moved("bot", "queued", "frustration"))
    metrics.event_published(moved("bot", "assigned", "taken"))
    # Not handoffs: routing a queued conversation, an agent's transfer, a hand-back,
    # a resolution.
    metrics.event_published(moved("queued", "assigned"))
    metrics.event_published(moved("assigned", "queued", "transferred"))
    metrics.event_published(moved("assigned", "bot"))
    metrics.event_published(moved("bot", "resolved"))

    handoffs = {
        dict(labels)["reason"]: count
        for (name, labels), count in samples(metrics).items()
        if name == "portside_handoffs_total"
    }
    assert handoffs == {"asked_for_person": 1, "frustration": 1, "taken": 1}


def test_errors_are_counted_by_kind_and_code() -> None:
    metrics = NodeMetrics()
    metrics.error("protocol", "message_too_long")
    metrics.error("protocol", "message_too_long")
    metrics.error("http", "not_found")

    assert value(metrics, "portside_errors_total", kind="protocol", code="message_too_long") == 2
    assert value(metrics, "portside_errors_total", kind="http", code="not_found") == 1
    assert ("portside_errors_total", (("code", "not_found"), ("kind", "protocol"))) not in (
        samples(metrics)
    )


def test_label_values_from_data_are_bounded() -> None:
    metrics = NodeMetrics()
    for n in range(MAX_LABEL_VALUES + 10):
        metrics.error("http", f"code_{n}")
    metrics.error("http", "Not A Code; DROP")  # not label-shaped: "other" too

    codes = {
        dict(labels)["code"]: count
        for (name, labels), count in samples(metrics).items()
        if name == "portside_errors_total" and dict(labels)["kind"] == "http"
    }
    assert len(codes) == MAX_LABEL_VALUES + 1
    assert codes["other"] == 11
    assert sum(codes.values()) == MAX_LABEL_VALUES + 11


def test_bot_reply_latency_falls_in_buckets_from_5_ms_to_5_s() -> None:
    metrics = NodeMetrics()
    for seconds in (0.004, 0.012, 0.012, 0.2, 7.0):
        metrics.bot_replied(seconds)

    def bucket(le: str) -> float:
        return value(metrics, "portside_bot_reply_seconds_bucket", le=le)

    assert bucket("0.005") == 1
    assert bucket("0.02") == 3
    assert bucket("0.25") == 4
    assert bucket("5.0") == 4
    assert bucket("+Inf") == 5
    assert value(metrics, "portside_bot_reply_seconds_count") == 5
    assert math.isclose(value(metrics, "portside_bot_reply_seconds_sum"), 7.228)


def test_gauges_hold_what_was_read_at_scrape() -> None:
    metrics = NodeMetrics()
    metrics.set_connections("widget", 7)
    metrics.set_connections("console", 2)
    metrics.set_queue(3)
    assert value(metrics, "portside_connections", kind="widget") == 7
    assert value(metrics, "portside_connections", kind="console") == 2
    assert value(metrics, "portside_queue_conversations") == 3

    metrics.set_queue(math.nan)  # the database could not be read
    assert math.isnan(value(metrics, "portside_queue_conversations"))


def test_bus_publish_failures_are_counted() -> None:
    metrics = NodeMetrics()
    metrics.bus_publish_failed()
    metrics.bus_publish_failed()
    assert value(metrics, "portside_bus_publish_failures_total") == 2


def test_two_apps_in_one_process_count_apart_and_never_on_the_global_registry() -> None:
    first, second = NodeMetrics(), NodeMetrics()
    first.error("http", "not_found")
    first.event_published(event(EventType.MESSAGE_CREATED, text="hi"))

    assert value(first, "portside_errors_total", kind="http", code="not_found") == 1
    assert ("portside_errors_total", (("code", "not_found"), ("kind", "http"))) not in samples(
        second
    )
    assert value(second, "portside_messages_total", author="visitor") == 0
    assert not [m for m in REGISTRY.collect() if m.name.startswith("portside_")]


def test_the_scrape_has_the_process_metrics() -> None:
    names = {name for name, _ in samples(NodeMetrics())}
    assert "process_resident_memory_bytes" in names
    assert "process_cpu_seconds_total" in names
