"""Benchmark clients that behave like widget.js and the console when their node goes away.

A client knows every node's address (as a load balancer would) and starts on its home
node. When its socket drops it reconnects to the next address with the protocol's
backoff (0.5 s doubling to 15 s, each wait +-20 %), and says where it stands in `hello`:
the widget its token, conversation and last `seq`, the console a `resume` map. Messages
not yet acknowledged stay in an outbox and go out again after every `welcome` with the
same `client_id`, which the server stores once. Every event seq is recorded as it came,
duplicates included, to be compared with the database log afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 15.0
JITTER = 0.2
# Socket open but no `welcome` by then: start over (widget.js: CONNECT_TIMEOUT_MS).
WELCOME_TIMEOUT_S = 15.0
# Refused for good: not sent again (the others are retried after the next welcome).
RETRIED_ERRORS = ("rate_limited", "unavailable")

Frame = dict[str, Any]


def encode(kind: str, **fields: Any) -> str:
    return json.dumps({"v": 1, "type": kind, **fields})


async def login_cookie(origin: str, email: str, password: str) -> str:
    """Sign an agent in; the Cookie header their console sends."""
    async with httpx.AsyncClient(base_url=origin) as http:
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


class ResumingClient:
    """The shared machinery; `Widget` and `Console` say what `hello` holds."""

    path = ""

    def __init__(self, origins: Sequence[str], home: int) -> None:
        self.origins = list(origins)
        self.home = home
        # The node (index in origins) this client is welcomed on, None while it is not.
        self.node: int | None = None
        # Every welcome (monotonic time, node) and every loss of a welcomed socket.
        self.welcomes: list[tuple[float, int]] = []
        self.dropped_at: list[float] = []
        # The start of every try to connect.
        self.tried_at: list[float] = []
        # Every event seq received, per conversation, in arrival order.
        self.received: dict[int, list[int]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.on_message: Callable[[Frame], None] | None = None
        self._outbox: dict[str, str] = {}
        self._acked: dict[str, Frame] = {}
        self._ws: ClientConnection | None = None
        self._welcomed = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    # What the subclasses say.

    def headers(self, origin: str) -> dict[str, str]:
        return {}

    def page_origin(self, origin: str) -> str:
        """The Origin header: the page the client runs in."""
        return origin

    def hello(self) -> Frame:
        raise NotImplementedError

    def on_welcome(self, frame: Frame) -> None:
        """Called with each welcome, before the outbox goes out again."""

    def noted(self, event: Frame) -> None:
        """Called with each event as it arrives."""

    # Life cycle.

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def welcomed(self) -> None:
        await self._welcomed.wait()

    @property
    def connected(self) -> bool:
        return self._welcomed.is_set()

    async def close(self) -> None:
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # Sending.

    async def send(self, kind: str, client_id: str, **fields: Any) -> None:
        """A frame answered by an `ack` (message.send): sent now if connected, and again
        after every reconnect until acknowledged."""
        raw = encode(kind, ref=client_id, client_id=client_id, **fields)
        self._outbox[client_id] = raw
        ws = self._ws
        if ws is not None and self._welcomed.is_set():
            with contextlib.suppress(ConnectionClosed):
                await ws.send(raw)

    def pending(self) -> int:
        return len(self._outbox)

    def ack(self, client_id: str) -> Frame | None:
        return self._acked.get(client_id)

    def last_seq(self, conversation_id: int) -> int:
        return max(self.received.get(conversation_id, ()), default=0)

    # The connection.

    async def _run(self) -> None:
        attempt = 0
        index = self.home
        while not self._closing:
            origin = self.origins[index]
            self.tried_at.append(time.monotonic())
            try:
                async with connect(
                    origin.replace("http", "ws", 1) + self.path,
                    origin=self.page_origin(origin),  # type: ignore[arg-type]
                    additional_headers=self.headers(origin),
                    open_timeout=WELCOME_TIMEOUT_S,
                    close_timeout=1,
                    ping_interval=None,
                    max_queue=None,
                    compression=None,
                ) as ws:
                    self._ws = ws
                    await ws.send(json.dumps({"v": 1, **self.hello()}))
                    welcome = json.loads(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT_S))
                    if welcome["type"] != "welcome":
                        raise InvalidHandshake(f"{welcome['type']} came before welcome")
                    attempt = 0
                    await self._welcome(ws, welcome, index)
                    async for raw in ws:
                        await self._receive(ws, raw)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError, InvalidURI):
                pass
            finally:
                self._ws = None
                if self._welcomed.is_set():
                    self.dropped_at.append(time.monotonic())
                self._welcomed.clear()
                self.node = None
            if self._closing:
                return
            # Fail over: the next try goes to the next node, after the backoff.
            index = (index + 1) % len(self.origins)
            delay = min(MAX_RETRY_S, FIRST_RETRY_S * 2**attempt)
            attempt += 1
            await asyncio.sleep(delay * random.uniform(1 - JITTER, 1 + JITTER))

    async def _welcome(self, ws: ClientConnection, frame: Frame, index: int) -> None:
        self.welcomes.append((time.monotonic(), index))
        self.node = index
        self.on_welcome(frame)
        self._welcomed.set()
        for raw in list(self._outbox.values()):
            await ws.send(raw)

    async def _receive(self, ws: ClientConnection, raw: str | bytes) -> None:
        frame = json.loads(raw)
        kind = frame["type"]
        if kind == "event":
            event = frame["event"]
            self.received[event["conversation_id"]].append(event["seq"])
            self.noted(event)
            if event["type"] == "message.created" and self.on_message is not None:
                self.on_message(event)
        elif kind == "ping":
            await ws.send('{"v":1,"type":"pong"}')
        elif kind == "ack":
            client_id = str(frame.get("client_id") or frame.get("ref"))
            if self._outbox.pop(client_id, None) is not None:
                self._acked[client_id] = frame
        elif kind == "error":
            self.errors[frame["code"]] += 1
            ref = frame.get("ref")
            if ref in self._outbox:
                if frame["code"] not in RETRIED_ERRORS:
                    del self._outbox[ref]
                else:  # as widget.js does: again after the wait the server asked for
                    delay = float(frame.get("retry_after") or 1.0)
                    asyncio.get_running_loop().call_later(delay, self._send_again, ref)

    def _send_again(self, client_id: str) -> None:
        raw, ws = self._outbox.get(client_id), self._ws
        if raw is not None and ws is not None and self._welcomed.is_set():
            task = asyncio.get_running_loop().create_task(ws.send(raw))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())


class Widget(ResumingClient):
    """A shopper's widget on a store's page (`shop_origin`)."""

    def __init__(self, origins: Sequence[str], home: int, store_key: str, shop_origin: str) -> None:
        super().__init__(origins, home)
        self.path = f"/ws/widget?store={store_key}"
        self.shop_origin = shop_origin
        # The page it is on, as widget.js tells it in every hello.
        self.context = {
            "url": f"{shop_origin}/products/linen-shirt",
            "title": "Linen shirt",
            "product": "linen-shirt",
            "language": "en",
            "timezone": "Europe/Berlin",
        }
        self.token: str | None = None
        self.conversation_id: int | None = None

    def page_origin(self, origin: str) -> str:
        return self.shop_origin

    def hello(self) -> Frame:
        hello: Frame = {"type": "hello", "context": self.context}
        if self.token is not None:
            hello["token"] = self.token
        if self.conversation_id is not None:
            hello["conversation_id"] = self.conversation_id
            hello["last_seq"] = self.last_seq(self.conversation_id)
        return hello

    def on_welcome(self, frame: Frame) -> None:
        self.token = frame["visitor"]["token"]
        if frame.get("conversation"):
            self.conversation_id = frame["conversation"]["id"]

    def noted(self, event: Frame) -> None:
        # As widget.js: an event of a newer conversation is the one it follows from now.
        if self.conversation_id is None or event["conversation_id"] > self.conversation_id:
            self.conversation_id = event["conversation_id"]


class Console(ResumingClient):
    """An agent's console, opened from Portside itself (its Origin is the node's)."""

    path = "/ws/console"

    def __init__(self, origins: Sequence[str], home: int, cookie: str) -> None:
        super().__init__(origins, home)
        self.cookie = cookie
        # The conversations it has in full: resumed from their last seq on reconnect.
        self.conversations: set[int] = set()

    def headers(self, origin: str) -> dict[str, str]:
        return {"Cookie": self.cookie}

    def hello(self) -> Frame:
        return {
            "type": "hello",
            "resume": {str(c): self.last_seq(c) for c in sorted(self.conversations)},
        }
