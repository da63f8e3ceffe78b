"""The WebSocket endpoints: Starlette's socket adapted to the realtime layer."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from portside.realtime.connection import Disconnected
from portside.realtime.console_session import run_console
from portside.realtime.hub import Hub
from portside.realtime.widget_session import WidgetRequest, run_widget
from portside.services.context import Services
from portside.web.deps import SESSION_COOKIE

router = APIRouter()


class StarletteSocket:
    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def send_text(self, data: str) -> None:
        if self._ws.application_state is not WebSocketState.CONNECTED:
            raise Disconnected
        try:
            await self._ws.send_text(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise Disconnected from exc

    async def receive_text(self) -> str:
        try:
            message = await self._ws.receive()
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise Disconnected from exc
        if message["type"] == "websocket.disconnect":
            raise Disconnected
        text = message.get("text")
        if text is None:
            return "\x00binary"  # parse_frame answers malformed_frame
        return str(text)

    async def close(self, code: int, reason: str = "") -> None:
        if self._ws.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await self._ws.close(code, reason)


def _parts(websocket: WebSocket) -> tuple[Services, Hub, str]:
    address = websocket.client.host if websocket.client else "unknown"
    return websocket.app.state.services, websocket.app.state.hub, address


@router.websocket("/ws/widget")
async def widget_socket(websocket: WebSocket) -> None:
    svc, hub, address = _parts(websocket)
    await websocket.accept()
    request = WidgetRequest(
        store_key=websocket.query_params.get("store", ""),
        origin=websocket.headers.get("origin"),
        address=address,
        user_agent=websocket.headers.get("user-agent"),
    )
    await run_widget(StarletteSocket(websocket), svc, hub, request)


@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket) -> None:
    svc, hub, address = _parts(websocket)
    await websocket.accept()
    await run_console(
        StarletteSocket(websocket),
        svc,
        hub,
        cookie=websocket.cookies.get(SESSION_COOKIE),
        origin_ok=_same_site(websocket, svc.settings.public_url),
        address=address,
    )


def _same_site(websocket: WebSocket, public_url: str) -> bool:
    """The console's socket must be opened by a page of Portside itself."""
    origin = websocket.headers.get("origin")
    if not origin:
        return False
    if public_url and origin == public_url:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host and bool(host)
