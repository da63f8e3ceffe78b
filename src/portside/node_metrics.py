"""What this node counts for its operators, served at /metrics in the Prometheus format.

One `NodeMetrics` per application, on its own registry (never prometheus_client's global
one), so two applications in one process keep their counts apart. The composition root
makes it and hands it down on `Services`. Counting is a method call that adds one to a
child made beforehand: a dict lookup and an increment on the hot paths, nothing more.

Labels stay few: no visitor, conversation or store ids. Values that come from data
(handoff reasons, error codes) are kept to `MAX_LABEL_VALUES` distinct ones; any more
are counted as "other".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from portside.domain.conversations import ActorType, Event, EventType, Status

# The media type of what `render` makes (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

CONNECTION_KINDS = ("widget", "console")
ERROR_KINDS = ("protocol", "http")
# From 5 ms to 5 s, with the budget's marks (p50 30 ms, p99 150 ms) among them.
BOT_REPLY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
MAX_LABEL_VALUES = 64
OTHER = "other"
_LABEL_VALUE = re.compile(r"[a-z][a-z0-9_.]{0,47}")

T = TypeVar("T")


class _Children(Generic[T]):
    """The children of one labelled metric by label value, each made once (`make`);
    at most MAX_LABEL_VALUES of them, and "other" for whatever comes after."""

    def __init__(self, make: Callable[[str], T], known: Iterable[str] = ()) -> None:
        self._make = make
        self._made: dict[str, T] = {}
        for value in known:
            self.get(value)

    def get(self, value: str) -> T:
        child = self._made.get(value)
        if child is None:
            if len(self._made) >= MAX_LABEL_VALUES or not _LABEL_VALUE.fullmatch(value):
                value = OTHER
            child = self._made.get(value)
            if child is None:
                child = self._made[value] = self._make(value)
        return child


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # CPU, memory, open files, start time of this process (process_*).
        ProcessCollector(registry=self.registry)
        r = self.registry
        self._connections = Gauge(
            "portside_connections",
            "WebSocket connections in session on this node, by kind (widget, console).",
            ["kind"],
            registry=r,
        )
        self._messages = Counter(
            "portside_messages",
            "Messages stored, by author (visitor, agent, bot, system).",
            ["author"],
            registry=r,
        )
        self._bot_reply = Histogram(
            "portside_bot_reply_seconds",
            "From a shopper's message stored to the AI agent's reply stored, on this node.",
            buckets=BOT_REPLY_BUCKETS,
            registry=r,
        )
        self._handoffs = Counter(
            "portside_handoffs",
            "Conversations that left the AI agent for a person, by reason.",
            ["reason"],
            registry=r,
        )
        self._queue = Gauge(
            "portside_queue_conversations",
            "Conversations waiting for a person (all stores; the same on every node).",
            registry=r,
        )
        self._errors = Counter(
            "portside_errors",
            "Errors answered to clients, by kind (protocol frames, http responses) and code.",
            ["kind", "code"],
            registry=r,
        )
        self._events = Counter(
            "portside_events_published",
            "Conversation events published on the bus after their commit, by type.",
            ["type"],
            registry=r,
        )
        self._bus_failures = Counter(
            "portside_bus_publish_failures",
            "Publishes the bus could not deliver (Redis unreachable); clients catch up "
            "from the log.",
            registry=r,
        )
        self._turns_recovered = Counter(
            "portside_turns_recovered",
            "Shoppers' turns found unanswered in the log (their node died) and handed to "
            "this node's AI agent.",
            registry=r,
        )
        self._connections_by_kind = _Children(self._connections.labels, CONNECTION_KINDS)
        self._messages_by_author = _Children(
            self._messages.labels, [author.value for author in ActorType]
        )
        self._handoffs_by_reason = _Children(self._handoffs.labels)
        self._events_by_type = _Children(self._events.labels, [kind.value for kind in EventType])
        self._errors_by_kind = {
            kind: _Children(functools.partial(self._errors.labels, kind)) for kind in ERROR_KINDS
        }

    # Counting, from the hot paths.

    def event_published(self, event: Event) -> None:
        """One conversation event handed to the bus: counts it, and the message or
        handoff it is."""
        # Event and actor types are StrEnums: they look up as their string values.
        kind = event.type
        self._events_by_type.get(kind).inc()
        if kind is _MESSAGE:
            self._messages_by_author.get(event.actor.type).inc()
        elif kind is _STATUS_CHANGED:
            data = event.data
            if data.get("from") == _BOT and data.get("to") in _PERSON_SIDE:
                self._handoffs_by_reason.get(str(data.get("reason") or OTHER)).inc()

    def bot_replied(self, seconds: float) -> None:
        self._bot_reply.observe(seconds)

    def error(self, kind: str, code: str) -> None:
        """An error sent to a client: an `error` frame ("protocol") or an HTTP error
        response ("http"), by its stable code."""
        self._errors_by_kind[kind].get(code).inc()

    def bus_publish_failed(self) -> None:
        self._bus_failures.inc()

    def turns_recovered(self, count: int) -> None:
        self._turns_recovered.inc(count)

    # Read at scrape time.

    def set_connections(self, kind: str, count: int) -> None:
        self._connections_by_kind.get(kind).set(count)

    def set_queue(self, count: float) -> None:
        """Conversations waiting for a person; NaN when it could not be read."""
        self._queue.set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)


_MESSAGE = EventType.MESSAGE_CREATED
_STATUS_CHANGED = EventType.STATUS_CHANGED
_BOT = Status.BOT.value
# A conversation that leaves the bot goes to the queue, or straight to a person.
_PERSON_SIDE = frozenset({Status.QUEUED.value, Status.ASSIGNED.value})
