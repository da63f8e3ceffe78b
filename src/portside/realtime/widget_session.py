"""A shopper's widget connection: `/ws/widget?store=KEY`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from portside.domain.identify import InvalidCustomer
from portside.domain.tracking import InvalidBatch
from portside.errors import Forbidden, NotFound, RateLimited
from portside.realtime.connection import Connection, Socket
from portside.realtime.hub import Hub
from portside.realtime.online import OnlineVisitors
from portside.realtime.protocol import (
    Close,
    MalformedFrame,
    OriginNotAllowed,
    UnknownStore,
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
    serve_admitted,
)
from portside.services.attachments_settings import public_attachments
from portside.services.context import Services
from portside.services.conversations import do_request_person, do_send_visitor_message
from portside.services.csat import do_submit_rating
from portside.services.inbox import find_visitor_conversation
from portside.services.store_keys import find_store_by_key_cached
from portside.services.tracking import do_identify, do_track
from portside.services.visitors import clean_context, do_identify_visitor, do_update_context


@dataclass(frozen=True)
class WidgetRequest:
    store_key: str
    origin: str | None
    address: str
    user_agent: str | None


async def run_widget(
    socket: Socket, svc: Services, hub: Hub, online: OnlineVisitors, request: WidgetRequest
) -> None:
    store = await find_store_by_key_cached(svc, request.store_key)
    if store is None:
        await refuse(
            socket, UnknownStore("No store has this widget key."), Close.UNKNOWN_STORE, svc=svc
        )
        return
    if request.origin not in store.allowed_origins:
        await refuse(
            socket,
            OriginNotAllowed(f"The store does not allow chats from {request.origin}."),
            Close.ORIGIN,
            svc=svc,
        )
        return
    await serve_admitted(
        socket, hub, request.address, lambda: _serve(socket, svc, hub, online, request, store)
    )


async def _serve(
    socket: Socket,
    svc: Services,
    hub: Hub,
    online: OnlineVisitors,
    request: WidgetRequest,
    store: Any,
) -> None:
    hello = await receive_hello(socket, svc)
    if hello is None:
        return
    # Written with the page view: the shopper is online from this statement on.
    online_until = online.until()
    try:
        visitor = await do_identify_visitor(
            svc,
            store_id=store.id,
            token=hello.get("token"),
            context=clean_context(hello.get("context")),
            address=request.address,
            user_agent=request.user_agent,
            online_until=online_until,
        )
    except RateLimited as exc:
        await refuse(socket, exc, Close.TOO_MANY, svc=svc)
        return
    online.connected(visitor.visitor_id, visitor.online_until or online_until)
    conn = Connection(
        socket, svc, store_id=store.id, address=request.address, visitor_id=visitor.visitor_id
    )
    conn.start()
    try:
        if visitor.token_error is not None:
            conn.send_error(visitor.token_error)
        conversation = visitor.conversation
        limits = svc.settings.limits
        conn.send(
            frame(
                "welcome",
                visitor={"id": visitor.visitor_id, "token": visitor.token},
                conversation=conversation,
                store={"name": store.name, "default_language": store.default_language},
                heartbeat_s=limits.heartbeat_s,
                limits={
                    "max_message_chars": limits.max_message_chars,
                    "messages_per_10s": limits.messages_per_10s,
                },
                # What the widget may send: it offers the voice recorder, and stops a
                # recording at max_voice_s, only when the store takes voice notes.
                attachments=public_attachments((store.settings or {}).get("attachments") or {}),
            )
        )
        if conversation is not None:
            resume_from = 0
            with contextlib.suppress(MalformedFrame):
                if optional_int(hello, "conversation_id") == conversation["id"]:
                    resume_from = optional_int(hello, "last_seq") or 0
            conn.seen[conversation["id"]] = min(resume_from, conversation["last_seq"])
        # Subscribe first, then read the log: an event committed in between is then
        # either in the replay or delivered live (and deduplicated), never missed.
        hub.attach(conn)
        await svc.bus.flush()
        if conversation is not None:
            await _catch_up(svc, conn, store.id, conversation["id"])
        handler = _WidgetFrames(svc, conn, store.id, visitor.visitor_id)
        async with heartbeat(conn, limits.heartbeat_s):
            await receive_loop(socket, conn, svc, handler.handle)
    finally:
        hub.detach(conn)
        try:
            await conn.stop()
        finally:
            await online.disconnected(visitor.visitor_id)


async def _catch_up(svc: Services, conn: Connection, store_id: int, conversation_id: int) -> None:
    """Send what the log holds past where the widget stands. Whether there is anything
    is one batched read: a widget coming back has mostly seen it all already."""
    last = await svc.hello_batch.last_seq(store_id, conversation_id)
    if last is None or last > conn.seen.get(conversation_id, 0):
        conn.replay(conversation_id)


class _WidgetFrames:
    def __init__(self, svc: Services, conn: Connection, store_id: int, visitor_id: int) -> None:
        self.svc = svc
        self.conn = conn
        self.store_id = store_id
        self.visitor_id = visitor_id

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message.send":
            result = await do_send_visitor_message(
                self.svc,
                store_id=self.store_id,
                visitor_id=self.visitor_id,
                client_id=message.get("client_id"),
                text=message.get("text"),
                conversation_id=optional_int(message, "conversation_id"),
                attachments=message.get("attachments"),
            )
            self.conn.send(ack_frame(message.get("ref"), result.event, result.duplicate))
        elif kind == "typing":
            await self._typing(message)
        elif kind == "sync":
            self.conn.sync(
                required_int(message, "conversation_id"),
                optional_int(message, "after_seq") or 0,
                message.get("ref"),
            )
        elif kind == "person.request":
            await do_request_person(self.svc, store_id=self.store_id, visitor_id=self.visitor_id)
        elif kind == "context.update":
            await do_update_context(
                self.svc,
                store_id=self.store_id,
                visitor_id=self.visitor_id,
                context=clean_context(message.get("context")),
            )
        elif kind == "csat.submit":
            rated = await do_submit_rating(
                self.svc,
                store_id=self.store_id,
                visitor_id=self.visitor_id,
                conversation_id=required_int(message, "conversation_id"),
                resolved_seq=required_int(message, "resolved_seq"),
                score=message.get("score"),
                comment=message.get("comment"),
            )
            self.conn.send(ack_frame(message.get("ref"), rated, False))
        elif kind == "track":
            await self._track(message)
        elif kind == "identify":
            await self._identify(message)
        else:
            raise Forbidden(f"A widget cannot send {kind}.")

    async def _track(self, message: dict[str, Any]) -> None:
        try:
            result = await do_track(
                self.svc,
                store_id=self.store_id,
                visitor_id=self.visitor_id,
                session_id=message.get("session_id"),
                events=message.get("events"),
            )
        except InvalidBatch as exc:
            # The frame is not a batch at all; bad events in a good batch keep their
            # own code (invalid_event), naming each one.
            raise MalformedFrame(exc.message) from None
        self.conn.send(
            _with_ref(
                frame("track.ack", stored=result.stored, duplicates=result.duplicates),
                message.get("ref"),
            )
        )

    async def _identify(self, message: dict[str, Any]) -> None:
        try:
            customer = await do_identify(
                self.svc,
                store_id=self.store_id,
                visitor_id=self.visitor_id,
                customer=message.get("customer"),
                hash=message.get("hash"),
            )
        except InvalidCustomer as exc:
            raise MalformedFrame(exc.message) from None
        self.conn.send(_with_ref(frame("identify.ack", customer=customer), message.get("ref")))

    async def _typing(self, message: dict[str, Any]) -> None:
        state = frame_bool(message, "state")
        conversation = await find_visitor_conversation(self.svc, self.store_id, self.visitor_id)
        wanted = optional_int(message, "conversation_id")
        if wanted is not None and (conversation is None or wanted != conversation["id"]):
            raise NotFound("This conversation does not exist.")
        # Typing before the first message has no agent to tell, but the trigger engine
        # must not speak up over it (conversation_id None; the hub tells no console).
        await self.svc.publish_signal(
            self.store_id,
            {
                "kind": "typing",
                "conversation_id": None if conversation is None else conversation["id"],
                "visitor_id": self.visitor_id,
                "actor": {"type": "visitor", "name": None},
                "state": state,
            },
        )


def _with_ref(message: dict[str, Any], ref: object) -> dict[str, Any]:
    if ref is not None:
        message["ref"] = ref
    return message
