"""Routes what the bus carries to the connections of this process.

The hub subscribes to a store's topic while at least one of its clients is connected
here. A widget receives the events of its own visitor's conversations (it filters out the
internal ones itself, after noting their seq). A console receives every event of the
conversations its agent has, of those waiting in the queue, and of those it follows
(opened); of all the others it hears a summary in an `inbox` frame, several changes in
one, at most every INBOX_EVERY_S. A store with thousands of live conversations and a
dozen agents would otherwise send every message to every agent. Typing signals go to
the other side of the conversation only.

When the link between nodes comes back after a loss (the bus's `on_resume`), what other
nodes published meanwhile never arrived: each widget here reads its conversations' missed
events from the log, and each console is asked to reconnect, which reloads its inbox and
resumes what it follows.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portside.domain.conversations import PREVIEW_CHARS
from portside.domain.ports import Subscription
from portside.realtime.connection import Connection
from portside.realtime.protocol import Close, encode, frame
from portside.services.context import Services, store_topic

INBOX_EVERY_S = 0.25
# Several nodes' links come back together after a Redis restart: one catch-up for all.
RESYNC_AFTER_S = 0.2
# Keys of a bus signal that are for routing, not for the frame.
_SIGNAL_KEYS = frozenset({"kind", "store_id"})


@dataclass
class _Room:
    subscription: Subscription
    consoles: set[Connection] = field(default_factory=set)
    visitors: dict[int, set[Connection]] = field(default_factory=lambda: defaultdict(set))
    # Conversation summaries not yet sent to the consoles, and the timer that sends them.
    inbox: dict[int, dict[str, Any]] = field(default_factory=dict)
    inbox_timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self.consoles) + sum(len(c) for c in self.visitors.values())

    def is_empty(self) -> bool:
        # Not len(): that walks every visitor, and a drain detaches 10,000 of them.
        return not self.consoles and not self.visitors


class TooManyConnections(Exception):
    pass


class Hub:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._rooms: dict[int, _Room] = {}
        self._per_address: Counter[str] = Counter()
        # Told of every status change of a store with clients here (the desk updates
        # the places of the shoppers who wait).
        self.on_status_change: Callable[[int], None] | None = None
        self._resync_timer: asyncio.TimerHandle | None = None
        svc.bus.on_resume(self._schedule_resync)

    @property
    def connection_count(self) -> int:
        return sum(len(room) for room in self._rooms.values())

    def count_connections(self) -> dict[str, int]:
        """The connections in session here by kind (read when /metrics is scraped)."""
        consoles = sum(len(room.consoles) for room in self._rooms.values())
        return {"widget": self.connection_count - consoles, "console": consoles}

    def admit(self, address: str) -> None:
        """Count a new connection from an address; raises TooManyConnections."""
        if self._per_address[address] >= self.svc.settings.limits.connections_per_ip:
            raise TooManyConnections(address)
        self._per_address[address] += 1

    def release(self, address: str) -> None:
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]

    def attach(self, conn: Connection) -> None:
        room = self._rooms.get(conn.store_id)
        if room is None:
            store_id = conn.store_id

            def route(_topic: str, message: dict[str, Any]) -> None:
                self._route(store_id, message)

            subscription = self.svc.bus.subscribe(store_topic(store_id), route)
            room = self._rooms[conn.store_id] = _Room(subscription)
        if conn.visitor_id is not None:
            room.visitors[conn.visitor_id].add(conn)
        else:
            room.consoles.add(conn)

    def detach(self, conn: Connection) -> None:
        room = self._rooms.get(conn.store_id)
        if room is None:
            return
        room.consoles.discard(conn)
        if conn.visitor_id is not None:
            tabs = room.visitors.get(conn.visitor_id)
            if tabs is not None:
                tabs.discard(conn)
                if not tabs:
                    del room.visitors[conn.visitor_id]
        if room.is_empty():
            room.subscription.close()
            if room.inbox_timer is not None:
                room.inbox_timer.cancel()
            del self._rooms[conn.store_id]

    def _route(self, store_id: int, message: dict[str, Any]) -> None:
        room = self._rooms.get(store_id)
        if room is None:
            return
        kind = message.get("kind")
        visitor_tabs = room.visitors.get(message.get("visitor_id", -1), ())
        if kind == "event":
            for conn in visitor_tabs:
                conn.deliver(message)
            if not room.consoles:
                return
            conversation_id = message["event"]["conversation_id"]
            queued = message["status"] == "queued"
            for conn in room.consoles:
                if (
                    queued
                    or message["assignee_id"] == conn.agent_id
                    or conversation_id in conn.following
                ):
                    conn.deliver(message)
            self._summarise(store_id, room, message)
            if (
                message["event"]["type"] == "conversation.status_changed"
                and self.on_status_change is not None
            ):
                self.on_status_change(store_id)
        elif kind == "presence":
            presence = frame("presence", agent_id=message["agent_id"], presence=message["presence"])
            for conn in room.consoles:
                conn.send(presence)
        elif kind == "typing":
            if message["conversation_id"] is None:
                return  # a shopper typing a first message: for the trigger engine only
            typing = frame(
                "typing",
                conversation_id=message["conversation_id"],
                actor=message["actor"],
                state=message["state"],
            )
            targets = room.consoles if message["actor"]["type"] == "visitor" else visitor_tabs
            for conn in targets:
                conn.send(typing)
        elif kind == "erasure":
            # Conversations deleted, or a whole shopper (services/erasure.py): every
            # console and the shopper's own tabs hear `conversation.deleted`; an erased
            # shopper's tabs are closed, to come back as a new shopper.
            for conversation_id in message["conversation_ids"]:
                room.inbox.pop(conversation_id, None)
                for conn in (*room.consoles, *visitor_tabs):
                    conn.forget(conversation_id)
            if message["visitor_erased"]:
                for conn in list(visitor_tabs):
                    conn.close_soon(Close.ERASED, "this shopper was erased")
        elif kind == "lead":
            # A hot lead from a trigger rule (services/proactive.py): every console.
            lead = frame("lead", **{k: v for k, v in message.items() if k not in _SIGNAL_KEYS})
            for conn in room.consoles:
                conn.send(lead)

    def _summarise(self, store_id: int, room: _Room, message: dict[str, Any]) -> None:
        event = message["event"]
        summary = room.inbox.setdefault(event["conversation_id"], {})
        summary.update(inbox_change(message))
        if room.inbox_timer is None:
            room.inbox_timer = asyncio.get_running_loop().call_later(
                INBOX_EVERY_S, self._send_inbox, store_id
            )

    def _send_inbox(self, store_id: int) -> None:
        room = self._rooms.get(store_id)
        if room is None:
            return
        room.inbox_timer = None
        if not room.inbox:
            return
        text = encode(frame("inbox", conversations=list(room.inbox.values())))
        room.inbox.clear()
        for conn in room.consoles:
            conn.send_encoded(text)

    def _schedule_resync(self) -> None:
        if self._resync_timer is None:
            self._resync_timer = asyncio.get_running_loop().call_later(RESYNC_AFTER_S, self.resync)

    def resync(self) -> None:
        """Catch every connection here up with the log (the bus may have missed events)."""
        self._resync_timer = None
        for room in self._rooms.values():
            for tabs in room.visitors.values():
                for conn in tabs:
                    for conversation_id in tuple(conn.seen):
                        conn.replay(conversation_id)
            for conn in tuple(room.consoles):
                conn.close_soon(Close.RESTARTING, "catching up")

    def console_agents(self) -> set[int]:
        """The agents with a console open on this node."""
        return {
            conn.agent_id
            for room in self._rooms.values()
            for conn in room.consoles
            if conn.agent_id is not None
        }

    def has_visitor(self, store_id: int, visitor_id: int) -> bool:
        """Whether the visitor has a widget open on this node (the email relay asks)."""
        room = self._rooms.get(store_id)
        return room is not None and visitor_id in room.visitors

    def connected_visitors(self, store_id: int) -> set[int]:
        """The store's shoppers with a widget open on this node."""
        room = self._rooms.get(store_id)
        return set(room.visitors) if room is not None else set()

    def send_to_visitor(self, store_id: int, visitor_id: int, message: dict[str, Any]) -> None:
        room = self._rooms.get(store_id)
        if room is None:
            return
        for conn in room.visitors.get(visitor_id, ()):
            conn.send(message)

    async def close_all(self, code: int = Close.RESTARTING) -> None:
        """Tell every client to reconnect (the server is stopping)."""
        connections = [
            conn
            for room in self._rooms.values()
            for conn in (*room.consoles, *(c for tabs in room.visitors.values() for c in tabs))
        ]
        if self._resync_timer is not None:
            self._resync_timer.cancel()
            self._resync_timer = None
        for conn in connections:
            conn.close_soon(code, "server restarting")
        await asyncio.sleep(0)


def inbox_change(message: dict[str, Any]) -> dict[str, Any]:
    """What one event changes in its conversation's inbox row (docs/protocol.md)."""
    event = message["event"]
    change: dict[str, Any] = {
        "id": event["conversation_id"],
        "last_seq": event["seq"],
        "updated_at": event["at"],
        "status": message["status"],
        "assignee_id": message["assignee_id"],
    }
    kind, data = event["type"], event["data"]
    if kind == "message.created":
        change["preview"] = data["text"][:PREVIEW_CHARS]
        change["last_message_at"] = event["at"]
        change["last_from"] = event["actor"]["type"]
    elif kind == "conversation.status_changed":
        change["assignee"] = data.get("assignee")
    elif kind == "conversation.context_updated":
        change["context"] = data
    return change
