"""Protocol clients that behave like the real widget and console when their node dies.

When the socket drops they reconnect (through the balancer, so to whichever node takes
them) with the protocol's backoff, 0.5 s doubling, with jitter, and say where they
stand in `hello`: the widget its conversation and last `seq`, the console a `resume`
map. Messages not yet acknowledged stay in an outbox and go out again after every
`welcome` with the same `client_id`, which the server stores once (widget.js does the
same). Every event seq that arrives is recorded as it came, duplicates included, so a
test can count what was lost and what came twice against the database log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from portside.domain.conversations import INTERNAL_EVENTS
from portside.services.context import Services
from portside.storage.tables import events

Frame = dict[str, Any]

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 15.0
JITTER = 0.2


@dataclass
class Outgoing:
    client_id: str
    frame: Frame
    ack: asyncio.Future[Frame]


class ResumingClient:
    """The shared machinery; `WidgetClient` and `ConsoleClient` say what `hello` holds."""

    def __init__(self, url: str, *, origin: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.origin = origin
        self.headers = headers or {}
        # Every event seq received, per conversation, in arrival order.
        self.received: dict[int, list[int]] = defaultdict(list)
        self.events: list[Frame] = []
        self.errors: list[Frame] = []
        self.welcomes = 0
        # Why each socket ended (shown when a wait times out).
        self.failures: list[str] = []
        # Local ports of the sockets this client has had: the balancer knows the node.
        self.local_ports: list[int] = []
        self._outbox: dict[str, Outgoing] = {}
        self._ws: ClientConnection | None = None
        self._welcomed = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._random = random.Random()

    # What the subclasses say.

    def hello(self) -> Frame:
        raise NotImplementedError

    def on_welcome(self, frame: Frame) -> None:
        """Called with each welcome, before the outbox goes out again."""

    def noted(self, event: Frame) -> None:
        """Called with each event as it arrives."""

    # Life cycle.

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self.connected()

    async def connected(self, timeout: float = 15) -> None:
        try:
            await asyncio.wait_for(self._welcomed.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{type(self).__name__} not welcomed in {timeout} s: {self.failures[-3:]}, "
                f"errors {self.errors[-3:]}"
            ) from None

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        for task in [*self._sends, self._task]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for outgoing in self._outbox.values():
            outgoing.ack.cancel()

    @property
    def local_port(self) -> int | None:
        return self.local_ports[-1] if self.local_ports else None

    @property
    def reconnects(self) -> int:
        return max(0, self.welcomes - 1)

    # Sending.

    def send(self, kind: str, **fields: Any) -> asyncio.Future[Frame]:
        """Queue a frame that is answered by an `ack` (message.send, note.send): it is
        sent now if connected, and again after every reconnect until acknowledged.
        The future resolves with the ack."""
        client_id = fields.setdefault("client_id", f"t-{uuid.uuid4().hex}")
        frame = {"v": 1, "type": kind, "ref": client_id, **fields}
        ack = asyncio.get_running_loop().create_future()
        self._outbox[client_id] = Outgoing(client_id, frame, ack)
        if self._welcomed.is_set():
            self._later(frame, 0)
        return ack

    async def send_frame(self, kind: str, **fields: Any) -> None:
        """A frame with no ack to wait for (follow, typing); lost if the socket is down."""
        await self._send_quietly({"v": 1, "type": kind, **fields})

    # Receiving.

    def last_seq(self, conversation_id: int) -> int:
        return max(self.received.get(conversation_id, ()), default=0)

    async def wait_for(self, check: Callable[[], bool], timeout: float = 15) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(
                    f"{type(self).__name__} waited {timeout} s in vain; last events "
                    f"{self.events[-3:]}, errors {self.errors[-3:]}, sockets ended by "
                    f"{self.failures[-3:]}"
                )
            await asyncio.sleep(0.05)

    def find(self, where: Callable[[Frame], bool]) -> list[Frame]:
        return [event for event in self.events if where(event)]

    async def event(self, where: Callable[[Frame], bool], timeout: float = 15) -> Frame:
        """The first event received (already, or from now on) that matches."""
        await self.wait_for(lambda: bool(self.find(where)), timeout)
        return self.find(where)[0]

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                async with connect(
                    self.url,
                    origin=self.origin,  # type: ignore[arg-type]
                    additional_headers=self.headers,
                    open_timeout=5,
                    ping_interval=None,
                ) as ws:
                    self._ws = ws
                    self.local_ports.append(int(ws.local_address[1]))
                    await ws.send(json.dumps({"v": 1, **self.hello()}))
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame["type"] == "welcome":
                            attempt = 0
                            await self._welcome(ws, frame)
                        else:
                            await self._receive(ws, frame)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                self.failures.append(repr(exc))
            finally:
                self._ws = None
                self._welcomed.clear()
            if self._closing:
                return
            delay = min(MAX_RETRY_S, FIRST_RETRY_S * 2**attempt)
            attempt += 1
            await asyncio.sleep(delay * self._random.uniform(1 - JITTER, 1 + JITTER))

    async def _welcome(self, ws: ClientConnection, frame: Frame) -> None:
        self.welcomes += 1
        self.on_welcome(frame)
        self._welcomed.set()
        for outgoing in list(self._outbox.values()):
            await ws.send(json.dumps(outgoing.frame))

    async def _receive(self, ws: ClientConnection, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "ping":
            await ws.send(json.dumps({"v": 1, "type": "pong"}))
        elif kind == "event":
            event = frame["event"]
            self.received[event["conversation_id"]].append(event["seq"])
            self.events.append(event)
            self.noted(event)
        elif kind == "ack":
            outgoing = self._outbox.pop(str(frame.get("client_id") or frame.get("ref")), None)
            if outgoing is not None and not outgoing.ack.done():
                outgoing.ack.set_result(frame)
        elif kind == "error":
            self.errors.append(frame)
            outgoing = self._outbox.get(str(frame.get("ref")))
            if outgoing is None:
                return
            if frame["code"] in ("rate_limited", "unavailable"):
                # Nothing was stored: the same frame again, after the wait asked for.
                self._later(outgoing.frame, float(frame.get("retry_after") or 1))
            else:  # refused for good: not sent again
                del self._outbox[outgoing.client_id]
                outgoing.ack.set_exception(RuntimeError(f"refused: {frame}"))

    def _later(self, frame: Frame, delay: float) -> None:
        task = asyncio.create_task(self._send_quietly(frame, delay))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send_quietly(self, frame: Frame, delay: float = 0) -> None:
        if delay:
            await asyncio.sleep(delay)
        if frame.get("client_id") is not None and frame["client_id"] not in self._outbox:
            return  # acknowledged meanwhile (the resend after a reconnect)
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(frame))


class WidgetClient(ResumingClient):
    def __init__(self, ws_url: str, store_key: str, origin: str) -> None:
        super().__init__(f"{ws_url}/ws/widget?store={store_key}", origin=origin)
        self.token: str | None = None
        self.visitor_id: int | None = None
        self.conversation_id: int | None = None

    def hello(self) -> Frame:
        hello: Frame = {"type": "hello"}
        if self.token is not None:
            hello["token"] = self.token
        if self.conversation_id is not None:
            hello["conversation_id"] = self.conversation_id
            if self.last_seq(self.conversation_id):
                hello["last_seq"] = self.last_seq(self.conversation_id)
        return hello

    def on_welcome(self, frame: Frame) -> None:
        self.token = frame["visitor"]["token"]
        self.visitor_id = frame["visitor"]["id"]
        if frame.get("conversation"):
            self.conversation_id = frame["conversation"]["id"]

    def noted(self, event: Frame) -> None:
        # As widget.js: an event of a newer conversation is the one it follows from now.
        if self.conversation_id is None or event["conversation_id"] > self.conversation_id:
            self.conversation_id = event["conversation_id"]

    async def say(self, text: str) -> Frame:
        """Send a message and wait for its ack (across reconnects)."""
        ack = await self.send("message.send", text=text)
        self.conversation_id = ack["conversation_id"]
        return ack


class ConsoleClient(ResumingClient):
    def __init__(self, ws_url: str, cookie: str, origin: str) -> None:
        super().__init__(f"{ws_url}/ws/console", origin=origin, headers={"Cookie": cookie})
        # The conversations it has in full: resumed from their last seq on reconnect.
        self.conversations: set[int] = set()

    def hello(self) -> Frame:
        return {
            "type": "hello",
            "resume": {str(c): self.last_seq(c) for c in self.conversations},
        }

    async def reply(self, conversation_id: int, text: str) -> Frame:
        """Send a reply (taking the conversation if the bot had it) and wait for its ack."""
        self.conversations.add(conversation_id)
        return await self.send("message.send", conversation_id=conversation_id, text=text)


def console_for(http: httpx.AsyncClient) -> ConsoleClient:
    """The console of the agent `http` is logged in as (tests.support.clients.login), on
    the server `http` talks to (a node, or the balancer); `start()` connects it."""
    base_url = str(http.base_url).rstrip("/")
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    return ConsoleClient("ws" + base_url.removeprefix("http"), cookie, origin=base_url)


@dataclass
class Tally:
    """What one client got of one conversation, against the log."""

    lost: list[int] = field(default_factory=list)
    duplicated: list[int] = field(default_factory=list)


async def conversation_log(svc: Services, conversation_id: int) -> list[tuple[int, str]]:
    """(seq, type) of every event of the conversation, from the database."""
    query = (
        select(events.c.seq, events.c.type)
        .where(events.c.conversation_id == conversation_id)
        .order_by(events.c.seq)
    )
    rows = await svc.db.read(lambda conn: conn.execute(query).all())
    return [(int(row.seq), str(row.type)) for row in rows]


def tally(
    client: ResumingClient,
    conversation_id: int,
    log: list[tuple[int, str]],
    *,
    shopper: bool,
) -> Tally:
    """Lost: the logged events the client may see and never got. Duplicated: seqs it
    got more than once."""
    expected = {seq for seq, kind in log if not (shopper and kind in INTERNAL_EVENTS)}
    got = Counter(client.received.get(conversation_id, []))
    return Tally(
        lost=sorted(expected - set(got)),
        duplicated=sorted(seq for seq, times in got.items() if times > 1),
    )
