"""A TCP forwarder on 127.0.0.1 that a test can cut and restore, in a thread of its own.

With several backends it is a load balancer: each new connection goes to the next
backend in turn, skipping those that refuse (a node that was killed), so clients that
connect to its one address find another node by themselves when theirs dies. With one
backend in front of PostgreSQL it is an outage switch: `cut()` drops every connection
and refuses new ones, as a database that went down would; `restore()` listens again on
the same port.

It runs its own event loop in a thread: a test's loop may block for a moment (a node
starting up) without stalling the traffic of every client going through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_CHUNK = 65536


class TcpProxy:
    def __init__(self, backends: list[int], *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend port")
        self.backends = list(backends)  # ports on `host`
        self.host = host
        self.port = port
        # Which backend each client connection was sent to, by the client's own port (a
        # test asks which node one of its sockets reached).
        self.routes: dict[int, int] = {}
        self._turn = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        """Stop listening and drop every open connection (both of its sides)."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._call(self._listen())

    def close(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
        self._loop = self._thread = None

    def backend_of(self, client_port: int) -> int | None:
        return self.routes.get(client_port)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for client, upstream in list(self._pairs):
            # abort(): a reset, at once, as when the other end goes away for real.
            client.transport.abort()
            upstream.transport.abort()
        self._pairs.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._forward(reader, writer)
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = None
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._turn) % len(self.backends)]
            with contextlib.suppress(OSError):
                upstream = await asyncio.open_connection(self.host, backend)
                break
        if upstream is None:
            return  # every backend refused: so does the proxy
        up_reader, up_writer = upstream
        self.routes[int(writer.get_extra_info("peername")[1])] = backend
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            # Either side closing ends the connection, as an L4 balancer does.
            pipes = [
                asyncio.create_task(_pipe(reader, up_writer)),
                asyncio.create_task(_pipe(up_reader, writer)),
            ]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.wait(pipes)
        finally:
            self._pairs.discard(pair)
            up_writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await source.read(_CHUNK):
            sink.write(data)
            await sink.drain()
