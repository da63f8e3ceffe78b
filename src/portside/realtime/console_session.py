"""An agent's console connection: `/ws/console`, authenticated by the session cookie."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from portside.errors import Forbidden, NotAuthenticated, PortsideError
from portside.realtime.connection import Connection, Socket
from portside.realtime.desk import Desk
from portside.realtime.hub import Hub
from portside.realtime.protocol import (
    Close,
    MalformedFrame,
    OriginNotAllowed,
    frame,
    frame_bool,
    optional_int,
    required_int,
)
from portside.realtime.session import (
    ack_frame,
    heartbeat,
    receive_hello,
    receive_loop,
    refuse,
    send_internal_error,
    serve_admitted,
)
from portside.services import inbox
from portside.services.auth import check_session
from portside.services.context import Services
from portside.services.conversations import do_send_agent_message
from portside.services.identity import AgentIdentity
from portside.services.presence import do_set_presence

MAX_RESUME = 1000
MAX_SENDS_IN_FLIGHT = 256


async def run_console(
    socket: Socket,
    svc: Services,
    hub: Hub,
    desk: Desk,
    *,
    cookie: str | None,
    origin_ok: bool,
    address: str,
) -> None:
    if not origin_ok:
        await refuse(
            socket,
            OriginNotAllowed("Open the console from Portside itself."),
            Close.ORIGIN,
            svc=svc,
        )
        return
    try:
        agent = await check_session(svc, cookie)
    except NotAuthenticated as exc:
        await refuse(socket, exc, Close.NOT_AUTHENTICATED, svc=svc)
        return
    await serve_admitted(
        socket, hub, address, lambda: _serve(socket, svc, hub, desk, agent, address)
    )


async def _serve(
    socket: Socket, svc: Services, hub: Hub, desk: Desk, agent: AgentIdentity, address: str
) -> None:
    hello = await receive_hello(socket, svc)
    if hello is None:
        return
    conn = Connection(socket, svc, store_id=agent.store_id, address=address, agent_id=agent.id)
    conn.start()
    try:
        gone: list[int] = []
        try:
            resume, gone = await _resume_points(svc, agent, hello.get("resume"))
        except MalformedFrame as exc:
            conn.send_error(exc, hello.get("ref"))
            resume = {}
        limits = svc.settings.limits
        conn.send(
            frame(
                "welcome",
                agent=agent.to_dict(),
                heartbeat_s=limits.heartbeat_s,
                limits={
                    "max_message_chars": limits.max_message_chars,
                    "messages_per_10s": limits.messages_per_10s,
                },
            )
        )
        for conversation_id in gone:
            # Deleted while this console was away (or never the store's).
            conn.send(frame("conversation.deleted", conversation_id=conversation_id))
        for conversation_id, last_seq in resume.items():
            conn.seen[conversation_id] = last_seq
            conn.follow(conversation_id)
        # Subscribe first, then read the log: an event committed in between is then
        # either in the replay or delivered live (and deduplicated), never missed.
        hub.attach(conn)
        await svc.bus.flush()
        for conversation_id in resume:
            conn.replay(conversation_id)
        handler = _ConsoleFrames(svc, conn, agent, desk)
        # Presence is written beside the first frames, not before them: a `follow` sent
        # right after `welcome` must take effect at once.
        arrived = asyncio.get_running_loop().create_task(desk.connected(agent))
        try:
            async with heartbeat(conn, limits.heartbeat_s):
                await receive_loop(socket, conn, svc, handler.handle, frames_per_10s=None)
                await handler.drain()
        finally:
            with contextlib.suppress(Exception):
                await arrived
            await desk.disconnected(agent)
    finally:
        hub.detach(conn)
        await conn.stop()


async def _resume_points(
    svc: Services, agent: AgentIdentity, raw: object
) -> tuple[dict[int, int], list[int]]:
    """The client's `{conversation_id: last_seq}`, kept to the store's conversations,
    and the ids it named that are not (any more)."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict) or len(raw) > MAX_RESUME:
        raise MalformedFrame(f"resume must map at most {MAX_RESUME} conversation ids to seqs.")
    points: dict[int, int] = {}
    for key, value in raw.items():
        if (
            not str(key).isdigit()
            or isinstance(value, bool)
            or not isinstance(value, int)
            or value < 0
        ):
            raise MalformedFrame("resume maps conversation ids to non-negative seqs.")
        points[int(key)] = value
    owned = await inbox.last_seqs(svc, agent.store_id, list(points))
    kept = {cid: min(seq, owned[cid]) for cid, seq in points.items() if cid in owned}
    return kept, [cid for cid in points if cid not in owned]


class _ConsoleFrames:
    def __init__(self, svc: Services, conn: Connection, agent: AgentIdentity, desk: Desk) -> None:
        self.svc = svc
        self.conn = conn
        self.agent = agent
        self.desk = desk
        self._visitor_of: dict[int, int] = {}
        # Sends in flight, the latest per conversation. An agent works many
        # conversations at once: their sends proceed side by side, while the sends into
        # one conversation are stored in the order the agent made them.
        self._sending: dict[int, asyncio.Task[None]] = {}

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        await self.desk.active(self.agent)
        if kind == "activity":
            # The console saw the agent at the keyboard (sent at most every 30 s).
            return
        if kind == "presence.set":
            self.desk.chose(self.agent)
            chosen = await do_set_presence(self.svc, self.agent, message.get("presence"))
            self.conn.send(frame("presence.ack", ref=message.get("ref"), presence=chosen.value))
            return
        if kind in ("message.send", "note.send"):
            conversation_id = required_int(message, "conversation_id")
            if len(self._sending) >= MAX_SENDS_IN_FLIGHT:
                await asyncio.wait(self._sending.values(), return_when=asyncio.FIRST_COMPLETED)
            before = self._sending.get(conversation_id)
            task = asyncio.get_running_loop().create_task(self._send(message, before))
            self._sending[conversation_id] = task
            task.add_done_callback(lambda t: self._forget(conversation_id, t))
        elif kind == "typing":
            conversation_id = required_int(message, "conversation_id")
            await self.svc.publish_signal(
                self.agent.store_id,
                {
                    "kind": "typing",
                    "conversation_id": conversation_id,
                    "visitor_id": await self._visitor(conversation_id),
                    "actor": {"type": "agent", "name": self.agent.name},
                    "state": frame_bool(message, "state"),
                },
            )
        elif kind == "follow":
            conversation_id = required_int(message, "conversation_id")
            if conversation_id not in self.conn.following:
                # The console reads the history itself, then hears what comes after.
                self.conn.seen.pop(conversation_id, None)
            # Opened: followed whoever has it from now on.
            self.conn.given.discard(conversation_id)
            self.conn.follow(conversation_id)
        elif kind == "sync":
            self.conn.sync(
                required_int(message, "conversation_id"),
                optional_int(message, "after_seq") or 0,
                message.get("ref"),
            )
        else:
            raise Forbidden(f"The console cannot send {kind}.")

    async def _send(self, message: dict[str, Any], before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            result = await do_send_agent_message(
                self.svc,
                self.agent,
                conversation_id=message["conversation_id"],
                client_id=message.get("client_id"),
                text=message.get("text"),
                note=message["type"] == "note.send",
                # A reply in the shopper's language, or none (services/translation.py).
                translate="translate" in message and frame_bool(message, "translate"),
                attachments=message.get("attachments"),
            )
        except PortsideError as exc:
            self.conn.send_error(exc, message.get("ref"))
            return
        except Exception:
            # Run in a task of its own: unanswered, the console would wait for an ack
            # that never comes.
            send_internal_error(self.conn, message.get("ref"))
            return
        self.conn.send(ack_frame(message.get("ref"), result.event, result.duplicate))

    def _forget(self, conversation_id: int, task: asyncio.Task[None]) -> None:
        if self._sending.get(conversation_id) is task:
            del self._sending[conversation_id]

    async def drain(self) -> None:
        """Let the sends in flight finish (their acks go out before a close)."""
        if self._sending:
            await asyncio.wait(list(self._sending.values()), timeout=5)

    async def _visitor(self, conversation_id: int) -> int:
        visitor_id = self._visitor_of.get(conversation_id)
        if visitor_id is None:
            visitor_id = await inbox.get_conversation_visitor(
                self.svc, self.agent.store_id, conversation_id
            )
            self._visitor_of[conversation_id] = visitor_id
        return visitor_id
