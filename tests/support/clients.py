"""Protocol clients over real sockets: a shopper's widget and an agent's console."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Frame = dict[str, Any]


class WsClient:
    """Reads frames into a backlog so a test can wait for the one it cares about."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.backlog: list[Frame] = []

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps({"v": 1, **frame}))

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def next(self, timeout: float = 5) -> Frame:
        if self.backlog:
            return self.backlog.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: Frame = json.loads(raw)
        return frame

    async def expect(
        self, kind: str, timeout: float = 5, where: Callable[[Frame], bool] | None = None
    ) -> Frame:
        """The next frame of `kind` (matching `where`); other frames stay in the backlog."""
        for i, frame in enumerate(self.backlog):
            if frame["type"] == kind and (where is None or where(frame)):
                return self.backlog.pop(i)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {kind} frame; backlog: {self.backlog}")
            raw = await asyncio.wait_for(self.ws.recv(), left)
            frame = json.loads(raw)
            if frame["type"] == kind and (where is None or where(frame)):
                return frame
            if frame["type"] != "ping":
                self.backlog.append(frame)

    async def events(self, count: int, timeout: float = 5) -> list[Frame]:
        return [(await self.expect("event", timeout))["event"] for _ in range(count)]

    async def quiet(self, seconds: float = 0.5) -> list[Frame]:
        """Frames that arrive within `seconds` (pings left out)."""
        got = list(self.backlog)
        self.backlog.clear()
        with contextlib.suppress(TimeoutError):
            while True:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), seconds))
                if frame["type"] != "ping":
                    got.append(frame)
        return got

    async def closed_with(self, timeout: float = 5) -> int | None:
        """Wait for the server to close; return its close code."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                raw = await asyncio.wait_for(self.ws.recv(), timeout)
                self.backlog.append(json.loads(raw))
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()


def client_id() -> str:
    return f"t-{uuid.uuid4().hex}"


@contextlib.asynccontextmanager
async def widget(
    ws_url: str,
    store_key: str,
    origin: str,
    *,
    hello: dict[str, Any] | None = None,
    send_hello: bool = True,
) -> AsyncIterator[WsClient]:
    async with connect(f"{ws_url}/ws/widget?store={store_key}", origin=origin) as ws:  # type: ignore[arg-type]
        client = WsClient(ws)
        if send_hello:
            # A refused connection may already be closed by the server: the test then
            # reads the close code, so a hello that cannot go out is not an error.
            with contextlib.suppress(ConnectionClosed):
                await client.send(type="hello", **(hello or {}))
        yield client


async def login(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    """An HTTP client logged in to the console, sending its CSRF token on every change."""
    http = httpx.AsyncClient(base_url=base_url, timeout=10)
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


@contextlib.asynccontextmanager
async def console(
    ws_url: str, http: httpx.AsyncClient, *, resume: dict[str, int] | None = None
) -> AsyncIterator[WsClient]:
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    origin = str(http.base_url).rstrip("/")
    async with connect(
        f"{ws_url}/ws/console",
        origin=origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
    ) as ws:
        client = WsClient(ws)
        await client.send(type="hello", resume=resume or {})
        yield client
