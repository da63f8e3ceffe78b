"""One client's live connection: an ordered, bounded outbox with resume and dedupe.

Everything a client receives goes through one queue and one writer task, so frames leave
in the order they were decided. Events carry a per-conversation `seq`; the connection
remembers the highest it has delivered per conversation, drops anything at or below it
(replays and races deliver some events twice) and, when an event arrives ahead of one it
has not seen (two writers published out of commit order, or it joined mid-stream), reads
the missing events from the log first. So a client sees every event once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from portside.errors import NotFound, PortsideError
from portside.realtime.protocol import Close, encode, error_frame, frame
from portside.services.context import Services
from portside.services.inbox import MAX_EVENTS_PAGE, list_events

log = logging.getLogger(__name__)

# Conversations one console follows at most; the longest followed go first.
MAX_FOLLOWING = 1000


class Disconnected(Exception):
    """The client went away."""


class Socket(Protocol):
    """What a connection needs from a WebSocket; the web layer adapts Starlette's."""

    async def send_text(self, data: str) -> None: ...

    async def receive_text(self) -> str: ...

    async def close(self, code: int, reason: str = "") -> None: ...


@dataclass(frozen=True)
class _Replay:
    conversation_id: int


@dataclass(frozen=True)
class _Forget:
    conversation_id: int


@dataclass(frozen=True)
class _Sync:
    conversation_id: int
    after_seq: int
    ref: object


class Connection:
    def __init__(
        self,
        socket: Socket,
        svc: Services,
        *,
        store_id: int,
        address: str,
        visitor_id: int | None = None,
        agent_id: int | None = None,
    ) -> None:
        self.socket = socket
        self.svc = svc
        self.store_id = store_id
        self.address = address
        self.visitor_id = visitor_id
        self.agent_id = agent_id
        self.seen: dict[int, int] = {}
        # When the client last sent a frame (event loop time): the heartbeat's measure.
        self.last_heard = asyncio.get_running_loop().time()
        # A console's followed conversations (oldest first): it hears all of their events.
        self.following: dict[int, None] = {}
        # Of those, the ones followed because they were given to its agent (not opened):
        # followed only while they are the agent's.
        self.given: set[int] = set()
        # Conversations deleted while connected: their late events are dropped.
        # (Bounded by the deletions made while it is connected: admins' clicks.)
        self.deleted: set[int] = set()
        self._queue: asyncio.Queue[Any] = asyncio.Queue(svc.settings.limits.send_queue_frames)
        self._writer: asyncio.Task[None] | None = None
        self.closing = False
        self._closer: asyncio.Task[None] | None = None

    @property
    def is_widget(self) -> bool:
        return self.visitor_id is not None

    # Producers: never block, never fail; a client that cannot keep up is disconnected
    # and resumes from its last seq when it comes back, so nothing is lost.

    def send(self, message: dict[str, Any]) -> None:
        self._put(("frame", message))

    def send_encoded(self, text: str) -> None:
        """A frame already encoded (the same for many clients)."""
        self._put(("text", text))

    def send_error(self, error: PortsideError, ref: object = None) -> None:
        self.svc.metrics.error("protocol", error.code)
        self.send(error_frame(error, ref))

    def follow(self, conversation_id: int) -> None:
        """Hear every event of this conversation (a console that has it open)."""
        self.following.pop(conversation_id, None)
        self.following[conversation_id] = None
        if len(self.following) > MAX_FOLLOWING:
            del self.following[next(iter(self.following))]

    def deliver(self, bus_message: dict[str, Any]) -> None:
        self._put(("event", bus_message))

    def replay(self, conversation_id: int) -> None:
        self._put(_Replay(conversation_id))

    def forget(self, conversation_id: int) -> None:
        """The conversation was deleted: tell the client (`conversation.deleted`), after
        what was queued before, and hear nothing more of it."""
        self._put(_Forget(conversation_id))

    def sync(self, conversation_id: int, after_seq: int, ref: object) -> None:
        self._put(_Sync(conversation_id, after_seq, ref))

    def _put(self, item: object) -> None:
        if self.closing:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("closing a connection whose client cannot keep up")
            self.close_soon(Close.OVERLOADED, "too slow; reconnect and resume")

    def close_soon(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued have gone out (at once if it is full)."""
        if self.closing:
            return
        self.closing = True
        try:
            self._queue.put_nowait(("close", (code, reason)))
        except asyncio.QueueFull:
            self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close(code, reason)

    # The writer.

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def stop(self) -> None:
        """Stop the writer, letting a queued close (and what precedes it) go out first."""
        writer = self._writer
        if writer is not None and not writer.done():
            if self.closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(writer), 2)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        self.closing = True

    async def _write_loop(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Replay):
                    await self._fill(item.conversation_id, upto=None)
                elif isinstance(item, _Forget):
                    await self._forget(item.conversation_id)
                elif isinstance(item, _Sync):
                    try:
                        await self._sync(item)
                    except PortsideError as exc:
                        self.svc.metrics.error("protocol", exc.code)
                        await self._send(error_frame(exc, item.ref))
                elif item[0] == "text":
                    await self.socket.send_text(item[1])
                elif item[0] == "frame":
                    await self._send(item[1])
                elif item[0] == "event":
                    await self._on_event(item[1])
                elif item[0] == "close":
                    await self._close(*item[1])
                    return
        except (Disconnected, OSError, RuntimeError):
            return
        except PortsideError as exc:  # the database went away mid-replay
            log.warning("connection writer stopped: %s", exc.message)
            await self._close(Close.RESTARTING, "try again")

    async def _send(self, message: dict[str, Any]) -> None:
        await self.socket.send_text(encode(message))

    async def _forget(self, conversation_id: int) -> None:
        self.deleted.add(conversation_id)
        self.seen.pop(conversation_id, None)
        self.following.pop(conversation_id, None)
        self.given.discard(conversation_id)
        await self._send(frame("conversation.deleted", conversation_id=conversation_id))

    async def _on_event(self, message: dict[str, Any]) -> None:
        wire = message["event"]
        conversation_id, seq = wire["conversation_id"], wire["seq"]
        if conversation_id in self.deleted:
            return  # published before the deletion, arrived after it (ids are never reused)
        seen = self.seen.get(conversation_id)
        if not self.is_widget:
            seen = self._console_seen(message, conversation_id, seq, seen)
        if seen is not None and seq <= seen:
            return
        if seq > (seen or 0) + 1:
            await self._fill(conversation_id, upto=seq - 1)
            if seq <= self.seen.get(conversation_id, 0):
                return
        self.seen[conversation_id] = seq
        if not (self.is_widget and message["internal"]):
            # Every client of the store gets the same frame: encode it once, for all.
            text = message.get("_frame")
            if text is None:
                text = message["_frame"] = encode(frame("event", event=wire))
            await self.socket.send_text(text)

    def _console_seen(
        self, message: dict[str, Any], conversation_id: int, seq: int, seen: int | None
    ) -> int | None:
        """Where a console stands in a conversation before this event: what it follows,
        and so what it is to be sent, changes with who has the conversation."""
        theirs = message["status"] == "assigned" and message["assignee_id"] == self.agent_id
        if theirs and conversation_id not in self.following:
            # Given to this console's agent (by routing, a take, a transfer): it follows
            # the conversation from now on and first gets its whole history, so the desk
            # has the transcript and context packet the moment the conversation is theirs.
            self.follow(conversation_id)
            self.given.add(conversation_id)
            self.seen[conversation_id] = 0
            return 0
        if conversation_id in self.given and not theirs:
            # It left the agent (transferred, queued, resolved): this change is the last
            # they hear of it in full, unless they open it.
            self.given.discard(conversation_id)
            self.following.pop(conversation_id, None)
            return seen
        if seen is None or conversation_id not in self.following:
            # A console reads a conversation's history over HTTP when its agent opens it,
            # and follows it from there; of the others (waiting in the queue) it hears
            # the live events only, with nothing to fill in.
            return seq - 1 if seen is None or seen < seq else seen
        return seen

    async def _fill(self, conversation_id: int, *, upto: int | None) -> None:
        """Deliver the logged events after the last seen, up to `upto` or the end."""
        while True:
            after = self.seen.get(conversation_id, 0)
            if upto is not None and after >= upto:
                return
            try:
                page = await list_events(
                    self.svc,
                    self.store_id,
                    conversation_id,
                    after_seq=after,
                    limit=MAX_EVENTS_PAGE,
                    urgent=True,
                )
            except NotFound:
                # Deleted meanwhile: its `conversation.deleted` is on its way.
                return
            for event in page.events:
                if upto is not None and event.seq > upto:
                    return
                self.seen[conversation_id] = event.seq
                if not (self.is_widget and event.internal):
                    await self._send(frame("event", event=event.to_wire()))
            if not page.more:
                if upto is None:
                    self.seen[conversation_id] = max(after, page.last_seq)
                return

    async def _sync(self, request: _Sync) -> None:
        page = await list_events(
            self.svc,
            self.store_id,
            request.conversation_id,
            after_seq=request.after_seq,
            limit=MAX_EVENTS_PAGE,
            visitor_id=self.visitor_id,
        )
        for event in page.events:
            await self._send(frame("event", event=event.to_wire()))
        seen = self.seen.get(request.conversation_id, 0)
        self.seen[request.conversation_id] = max(seen, page.last_seq)
        await self._send(
            frame(
                "synced",
                conversation_id=request.conversation_id,
                last_seq=page.last_seq,
                more=page.more,
                **({"ref": request.ref} if request.ref is not None else {}),
            )
        )
