"""A storm of returning widgets on one node: what each `hello` costs the node's CPU.

When a node dies, its widgets all say hello to the survivors at once (cluster.py). This
measures that work alone, on one `portside serve` on PostgreSQL and Redis, without the
chat traffic cluster.py adds:

1. `--workers` (2) processes of the load generator open `--widgets` (5,000) widgets on
   the node, each a new shopper on the same product page, 100 at a time, and hold them.
2. Then each opens a second widget for every shopper at once, with the shopper's token
   and page, as a widget coming back does (a second tab: the first stays open, so the
   shopper is online and the node has nothing to write). Measured: the wall time until
   every second widget has its `welcome`, and the node's CPU for them.
3. For the floor under it, the same storm against a bare ASGI application under the same
   uvicorn settings, which accepts, reads the hello and answers one frame: the
   WebSocket handshake and the event loop's own work, none of Portside's.

The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import sys
import textwrap
import time
from multiprocessing.connection import Connection
from typing import Any

from _idle import run_loop
from _server import (
    bench_env,
    cpu_seconds,
    create_store_with_agents,
    free_port,
    raise_file_limit,
    start_server,
    stop_server,
    wait_ready,
)

SHOP = "https://shop.bench.example"
CONTEXT = {
    "url": f"{SHOP}/products/linen-shirt",
    "title": "Linen shirt",
    "product": "linen-shirt",
    "language": "en",
    "timezone": "Europe/Berlin",
}
BATCH = 100
TIMEOUT_S = 120

# The floor: uvicorn as `portside serve` runs it, around an application that does nothing.
BARE = textwrap.dedent(
    """
    import sys, uvicorn

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.send", "text": '{"v":1,"type":"welcome"}'})
        while (await receive())["type"] != "websocket.disconnect":
            pass

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                ws="websockets-sansio", ws_per_message_deflate=False,
                ws_ping_interval=None, backlog=8192)
    """
)


async def _open(url: str, token: str | None) -> tuple[Any, str | None]:
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        origin=SHOP,  # type: ignore[arg-type]
        open_timeout=TIMEOUT_S,
        ping_interval=None,
        compression=None,
    )
    hello: dict[str, Any] = {"v": 1, "type": "hello", "context": CONTEXT}
    if token is not None:
        hello["token"] = token
    await ws.send(json.dumps(hello))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
        if frame["type"] == "welcome":
            return ws, (frame.get("visitor") or {}).get("token")


def worker(url: str, count: int, pipe: Connection) -> None:
    """Open `count` widgets, report; on "storm", a second one for each at once."""

    async def main() -> None:
        first: list[tuple[Any, str | None]] = []
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            first += await asyncio.gather(*(_open(url, None) for _ in range(size)))
        pipe.send("opened")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)
        started = time.monotonic()
        second = await asyncio.gather(*(_open(url, token) for _, token in first))
        pipe.send(time.monotonic() - started)
        await loop.run_in_executor(None, pipe.recv)
        await asyncio.gather(*(ws.close() for ws, _ in first + second))
        pipe.send("closed")

    run_loop(main())


def storm(url: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for n in range(args.workers):
        share = args.widgets // args.workers + (1 if n < args.widgets % args.workers else 0)
        ours, theirs = spawn.Pipe()
        process = spawn.Process(target=worker, args=(url, share, theirs), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    start = cpu_seconds(pid)
    for pipe in pipes:
        if not pipe.poll(TIMEOUT_S * 5) or pipe.recv() != "opened":
            raise SystemExit("the first widgets were not all welcomed")
    opening = cpu_seconds(pid) - start
    start = cpu_seconds(pid)
    time.sleep(2)  # what the node does with its widgets open and nothing asked
    idle = cpu_seconds(pid) - start
    before = cpu_seconds(pid)
    clients_before = sum(cpu_seconds(process.pid) for process in processes if process.pid)
    for pipe in pipes:
        pipe.send("storm")
    walls = [pipe.recv() for pipe in pipes]
    spent = cpu_seconds(pid) - before
    clients = sum(cpu_seconds(process.pid) for process in processes if process.pid)
    for pipe in pipes:
        pipe.send("close")
    for pipe, process in zip(pipes, processes, strict=True):
        pipe.recv()
        process.join(10)
    return {
        "wall_s": round(max(walls), 2),
        "cpu_s": round(spent, 2),
        "cpu_ms_per_hello": round(spent * 1000 / args.widgets, 3),
        "new_visitor_cpu_ms": round(opening * 1000 / args.widgets, 3),
        "idle_cpu_pct": round(idle / 2 * 100, 1),
        # The load generator's side of the same handshakes, on the same cores.
        "client_cpu_s": round(clients - clients_before, 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_file_limit(3 * args.widgets + 2048)
    origin, port, env = bench_env(
        PORTSIDE_DATABASE_URL=args.database_url,
        PORTSIDE_REDIS_URL=args.redis_url,
        PORTSIDE_AGENT="off",
    )
    subprocess.run(
        [sys.executable, "-m", "portside.cli", "migrate"], env=env, check=True, capture_output=True
    )
    store, _ = create_store_with_agents(env, "Hello storm", SHOP, 1, "bench-password-1")
    server = start_server(port, env)
    try:
        asyncio.run(wait_ready(origin))
        url = f"ws://127.0.0.1:{port}/ws/widget?store={store['widget_key']}"
        portside = storm(url, server.pid, args)
    finally:
        stop_server(server)

    floor_port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(floor_port)])
    try:
        asyncio.run(_until_listening(floor_port))
        floor = storm(f"ws://127.0.0.1:{floor_port}/", bare.pid, args)
    finally:
        stop_server(bare)
    floor.pop("new_visitor_cpu_ms")
    return {"widgets": args.widgets, "portside": portside, "bare_uvicorn": floor}


async def _until_listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise SystemExit("the bare application did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widgets", type=int, default=5000, help="shoppers, each back at once")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/test", help="PostgreSQL"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if args.widgets < args.workers or args.workers < 1:
        parser.error("--widgets must be at least --workers, and --workers at least 1")
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
