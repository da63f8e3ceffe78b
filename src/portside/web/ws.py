"""The WebSocket endpoints, served straight from ASGI in front of the HTTP application.

A live connection carries thousands of frames, and every layer between the server and
the endpoint (routing, middleware, Starlette's socket state checks) costs each one of
them; so `/ws/widget` and `/ws/console` take the raw ASGI `receive` and `send`, and
everything else goes on to FastAPI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portside.errors import ServiceUnavailable
from portside.realtime.connection import Disconnected
from portside.realtime.console_session import run_console
from portside.realtime.hub import Hub
from portside.realtime.protocol import Close, encode, error_frame
from portside.realtime.widget_session import WidgetRequest, run_widget
from portside.services.context import Services
from portside.web.deps import SESSION_COOKIE


class AsgiSocket:
    """The realtime layer's Socket over one ASGI WebSocket connection."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._open = False
        self._closed = False

    async def accept(self) -> bool:
        """Complete the handshake; False if the client left before it."""
        message = await self._receive()
        if message["type"] != "websocket.connect":
            return False
        await self._send({"type": "websocket.accept"})
        self._open = True
        return True

    async def send_text(self, data: str) -> None:
        if self._closed:
            raise Disconnected
        try:
            await self._send({"type": "websocket.send", "text": data})
        except (OSError, RuntimeError) as exc:
            self._closed = True
            raise Disconnected from exc

    async def receive_text(self) -> str:
        if self._closed:
            raise Disconnected
        try:
            message: Message = await self._receive()
        except (OSError, RuntimeError) as exc:
            self._closed = True
            raise Disconnected from exc
        if message["type"] != "websocket.receive":
            self._closed = True
            raise Disconnected
        text = message.get("text")
        if text is None:
            return "\x00binary"  # parse_frame answers malformed_frame
        return str(text)

    async def close(self, code: int, reason: str = "") -> None:
        if self._closed or not self._open:
            return
        self._closed = True
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


class WebSocketEndpoints:
    """ASGI middleware: the two WebSocket paths, handled here; all else passes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            handler = _ENDPOINTS.get(scope["path"])
            if handler is not None:
                socket = AsgiSocket(receive, send)
                if await socket.accept():
                    connection = HTTPConnection(scope)
                    try:
                        await handler(connection, socket)
                    except ServiceUnavailable as exc:
                        await _try_again_later(connection, socket, exc)
                return
        await self.app(scope, receive, send)


async def _widget(connection: HTTPConnection, socket: AsgiSocket) -> None:
    svc, hub, address = _parts(connection)
    request = WidgetRequest(
        store_key=connection.query_params.get("store", ""),
        origin=connection.headers.get("origin"),
        address=address,
        user_agent=connection.headers.get("user-agent"),
    )
    await run_widget(socket, svc, hub, connection.app.state.online, request)


async def _console(connection: HTTPConnection, socket: AsgiSocket) -> None:
    svc, hub, address = _parts(connection)
    await run_console(
        socket,
        svc,
        hub,
        connection.app.state.desk,
        cookie=connection.cookies.get(SESSION_COOKIE),
        origin_ok=_same_site(connection, svc.settings.public_url),
        address=address,
    )


_ENDPOINTS: dict[str, Callable[[HTTPConnection, AsgiSocket], Awaitable[None]]] = {
    "/ws/widget": _widget,
    "/ws/console": _console,
}


async def _try_again_later(
    connection: HTTPConnection, socket: AsgiSocket, error: ServiceUnavailable
) -> None:
    """The database went away while the client was let in (it is restarting): say so,
    and close with 1013 so that the client comes back after its backoff. Uncaught, the
    socket would be reset with no word of why."""
    connection.app.state.services.metrics.error("protocol", error.code)
    with contextlib.suppress(Disconnected):
        await socket.send_text(encode(error_frame(error)))
    await socket.close(Close.OVERLOADED, "try again later")


def _parts(connection: HTTPConnection) -> tuple[Services, Hub, str]:
    address = connection.client.host if connection.client else "unknown"
    state = connection.app.state
    return state.services, state.hub, address


def _same_site(connection: HTTPConnection, public_url: str) -> bool:
    """The console's socket must be opened by a page of Portside itself."""
    origin = connection.headers.get("origin")
    if not origin:
        return False
    if public_url and origin == public_url:
        return True
    host = connection.headers.get("host", "")
    return urlsplit(origin).netloc == host and bool(host)
