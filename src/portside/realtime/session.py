"""What widget and console connections share: hello, heartbeats, the receive loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from portside.domain.ratelimit import SlidingWindowLimiter
from portside.errors import InternalError, PortsideError, RateLimited
from portside.realtime.connection import Connection, Disconnected, Socket
from portside.realtime.hub import Hub, TooManyConnections
from portside.realtime.protocol import (
    Close,
    HelloRequired,
    MalformedFrame,
    UnsupportedVersion,
    encode,
    error_frame,
    frame,
    parse_frame,
)
from portside.services.context import Services

log = logging.getLogger(__name__)

MAX_MALFORMED = 20
FRAMES_PER_10S = 200

FrameHandler = Callable[[dict[str, Any]], Awaitable[None]]


async def refuse(socket: Socket, error: PortsideError, code: int, *, svc: Services) -> None:
    """Answer a connection that cannot go on with one error frame and a close code."""
    svc.metrics.error("protocol", error.code)
    with contextlib.suppress(Exception):
        await socket.send_text(encode(error_frame(error)))
        await socket.close(code, error.message[:120])


async def serve_admitted(
    socket: Socket, hub: Hub, address: str, serve: Callable[[], Awaitable[None]]
) -> None:
    """Run `serve` while counted against the address's connection limit, or refuse."""
    try:
        hub.admit(address)
    except TooManyConnections:
        await refuse(
            socket,
            RateLimited("Too many connections from this address."),
            Close.TOO_MANY,
            svc=hub.svc,
        )
        return
    try:
        await serve()
    finally:
        hub.release(address)


async def receive_hello(socket: Socket, svc: Services) -> dict[str, Any] | None:
    """The client's first frame, which must be `hello`; None if the socket was refused."""
    try:
        # A timeout scope, not wait_for: on Python 3.11 that makes a task per hello.
        async with asyncio.timeout(svc.settings.limits.hello_timeout_s):
            text = await socket.receive_text()
    except TimeoutError:
        await refuse(
            socket, HelloRequired("No hello came in time."), Close.NOT_AUTHENTICATED, svc=svc
        )
        return None
    except Disconnected:
        return None
    try:
        hello = parse_frame(text)
    except UnsupportedVersion as exc:
        await refuse(socket, exc, Close.PROTOCOL, svc=svc)
        return None
    except MalformedFrame as exc:
        await refuse(socket, exc, Close.PROTOCOL, svc=svc)
        return None
    if hello["type"] != "hello":
        await refuse(
            socket,
            HelloRequired("The first frame must be hello."),
            Close.NOT_AUTHENTICATED,
            svc=svc,
        )
        return None
    return hello


@contextlib.asynccontextmanager
async def heartbeat(conn: Connection, interval: float) -> AsyncIterator[None]:
    """Ping every `interval`; close a client silent for three of them (it is gone).

    The silence is checked here rather than with a timeout on each read: a timeout
    makes a task per frame received, and with thousands of mostly idle connections
    those long-waiting tasks filled the cycle collector's middle generation, whose
    collections then stalled the event loop for 100 ms at a time.
    """
    loop = asyncio.get_running_loop()
    silence = 3 * interval

    async def beat() -> None:
        # A random first beat spreads the pings of many connections opened together
        # (a server restart reconnects everyone at once) evenly over the interval.
        await asyncio.sleep(random.uniform(0, interval))
        while True:
            if loop.time() - conn.last_heard > silence:
                conn.close_soon(Close.HEARTBEAT, "no frames")
                return
            conn.send(frame("ping"))
            await asyncio.sleep(interval)

    task = asyncio.get_running_loop().create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def receive_loop(
    socket: Socket,
    conn: Connection,
    svc: Services,
    handle: FrameHandler,
    *,
    frames_per_10s: int | None = FRAMES_PER_10S,
) -> None:
    """Read frames until the client leaves, misbehaves, or goes silent.

    `frames_per_10s` caps what a stranger (a widget) may send; consoles are agents
    signed in, whose messages have their own limit.
    """
    malformed = 0
    # Every frame costs something; a client flooding them is slowed, not served.
    flood = SlidingWindowLimiter(svc.clock, limit=frames_per_10s or 1, window_s=10)
    loop = asyncio.get_running_loop()
    while not conn.closing:
        try:
            text = await socket.receive_text()
        except Disconnected:
            return
        conn.last_heard = loop.time()
        ref = None
        try:
            retry = flood.hit("frames") if frames_per_10s else 0
            if retry:
                raise RateLimited("Too many frames; slow down.", retry_after=retry)
            message = parse_frame(text)
            ref = message.get("ref")
            if message["type"] == "ping":
                conn.send(frame("pong"))
            elif message["type"] == "hello":
                raise MalformedFrame("hello was already sent on this connection.")
            elif message["type"] != "pong":
                await handle(message)
        except UnsupportedVersion as exc:
            conn.send_error(exc, ref)
            conn.close_soon(Close.PROTOCOL, "unsupported version")
            return
        except MalformedFrame as exc:
            malformed += 1
            conn.send_error(exc, ref)
            if malformed >= MAX_MALFORMED:
                conn.close_soon(Close.PROTOCOL, "too many malformed frames")
                return
        except PortsideError as exc:
            conn.send_error(exc, ref)
        except Exception:
            # A bug, or a failure below us that has no error of its own: the client
            # still hears that its frame failed (and the connection goes on).
            send_internal_error(conn, ref)


def send_internal_error(conn: Connection, ref: object) -> None:
    """Log the exception being handled and tell the client its frame failed."""
    log.exception("handling a frame failed")
    conn.send_error(InternalError("Something went wrong on our side."), ref)


def ack_frame(ref: object, event: Any, duplicate: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "client_id": event.data.get("client_id"),
        "conversation_id": event.conversation_id,
        "seq": event.seq,
        "event_id": event.id,
        "duplicate": duplicate,
    }
    if ref is not None:
        fields["ref"] = ref
    return frame("ack", **fields)
