"""Idle widget connections, held by worker processes of the load generator.

Ten thousand sockets and their handshakes are more than one Python process should do
beside the measured traffic, so `cluster.py` spreads them over a few workers. Each
worker opens its share (every client a real visitor: `hello`, then `welcome`), answers
the heartbeat, reconnects like widget.js when its node goes away, and reports its
clients' welcomes and losses (monotonic times, comparable across processes) when asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from _clients import ResumingClient, Widget

OPEN_TIMEOUT_S = 120


@dataclass(frozen=True)
class IdleShare:
    origins: list[str]
    store_key: str
    shop_origin: str
    count: int
    # The first client's number over all workers: client n starts on node n % nodes.
    first: int
    # Opened this many at a time, each batch welcomed before the next.
    batch: int


@dataclass(frozen=True)
class ClientReport:
    home: int
    node: int | None
    welcomed: list[tuple[float, int]]
    dropped: list[float]
    tried: list[float]


def report_of(client: ResumingClient) -> ClientReport:
    return ClientReport(
        client.home, client.node, client.welcomes, client.dropped_at, client.tried_at
    )


def hold(share: IdleShare, pipe: Connection) -> None:
    """The worker process: open, report, hold until told to close."""
    with contextlib.suppress(KeyboardInterrupt):
        run_loop(_hold(share, pipe))


def run_loop(main: Any) -> Any:
    """uvloop when it is there (uvicorn[standard] brings it): the load generator's own
    overhead is what limits it."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(main)
    return uvloop.run(main)


async def _hold(share: IdleShare, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    clients = [
        Widget(
            share.origins,
            (share.first + n) % len(share.origins),
            share.store_key,
            share.shop_origin,
        )
        for n in range(share.count)
    ]
    failed = 0
    for start in range(0, share.count, share.batch):
        batch = clients[start : start + share.batch]
        for client in batch:
            client.start()
        results = await asyncio.gather(
            *(asyncio.wait_for(client.welcomed(), OPEN_TIMEOUT_S) for client in batch),
            return_exceptions=True,
        )
        failed += sum(isinstance(result, BaseException) for result in results)
    # What is loaded now lives until the end: out of the collector's sight.
    gc.collect()
    gc.freeze()
    pipe.send({"welcomed": share.count - failed})
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "connected":
            pipe.send(sum(1 for client in clients if client.connected))
        elif command == "report":
            pipe.send([report_of(client) for client in clients])
        elif command == "close":
            await asyncio.gather(*(client.close() for client in clients))
            pipe.send("closed")
            return
