"""Chat delivery latency: shoppers and agents exchanging messages through a real server.

Starts `portside serve` as a subprocess on a free port (SQLite by default, or
--database-url), opens one widget connection per conversation and a few console
connections, and for --seconds sends messages at a fixed total --rate, round-robin over
the conversations, alternately shopper -> agent and agent -> shopper. Every message is
stored in the event log before it is delivered. Latency is measured from just before the
send to receipt of the event on the other side (both ends in this process, one clock).

The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from _clients import login_cookie
from _server import (
    bench_env,
    cpu_seconds,
    create_store_with_agents,
    peak_rss_mb,
    percentile,
    serving,
    wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    by_direction: dict[str, list[float]] = field(
        default_factory=lambda: {"to_agent": [], "to_shopper": []}
    )
    sent: dict[str, float] = field(default_factory=dict)
    received: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    measuring: bool = False

    def receive(self, client_id: str) -> None:
        self.received[client_id] += 1
        started = self.sent.get(client_id)
        if started is not None and self.received[client_id] == 1:
            ms = (time.perf_counter() - started) * 1000
            self.latencies_ms.append(ms)
            self.by_direction["to_agent" if client_id.endswith("s") else "to_shopper"].append(ms)


class Shopper:
    def __init__(self, ws: ClientConnection, stats: Stats) -> None:
        self.ws = ws
        self.stats = stats
        self.conversation_id = 0
        self.ready = asyncio.Event()

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "event":
                    event = frame["event"]
                    if event["type"] == "message.created" and event["actor"]["type"] == "agent":
                        self.stats.receive(event["data"]["client_id"])
                elif kind == "ack":
                    self.conversation_id = frame["conversation_id"]
                    self.ready.set()
                elif kind == "ping":
                    await self.ws.send('{"v":1,"type":"pong"}')
                elif kind == "error":
                    self.stats.errors[frame["code"]] += 1


class Agent:
    def __init__(self, ws: ClientConnection, stats: Stats) -> None:
        self.ws = ws
        self.stats = stats
        self.owned: set[int] = set()

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                # A console hears every event of the store; skip decoding the agents'
                # own messages, which it does not measure, to keep this process light.
                if '"actor":{"type":"agent"' in raw:
                    continue
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "event":
                    event = frame["event"]
                    if (
                        event["type"] == "message.created"
                        and event["actor"]["type"] == "visitor"
                        and event["conversation_id"] in self.owned
                    ):
                        self.stats.receive(event["data"]["client_id"])
                elif kind == "ping":
                    await self.ws.send('{"v":1,"type":"pong"}')
                elif kind == "error":
                    self.stats.errors[frame["code"]] += 1


async def run(args: argparse.Namespace, **settings: str) -> dict[str, Any]:
    """One server with `settings` on top of the benchmark's (cluster.py adds a Redis bus)."""
    origin, port, env = bench_env(
        PORTSIDE_AGENT_MESSAGES_PER_10S="1000000",
        PORTSIDE_LOGINS_PER_MINUTE="1000",
        # People talking: the AI agent has its own benchmark (bot_latency.py).
        PORTSIDE_AGENT="off",
        **settings,
    )
    if args.database_url:
        env["PORTSIDE_DATABASE_URL"] = args.database_url
    store, emails = create_store_with_agents(env, "Bench", origin, args.agents, PASSWORD)

    with serving(port, env) as server:
        await wait_ready(origin)
        return await exchange(args, origin, store["widget_key"], emails, server.pid)


async def exchange(
    args: argparse.Namespace, origin: str, key: str, emails: list[str], pid: int
) -> dict[str, Any]:
    stats = Stats()
    ws_base = origin.replace("http", "ws", 1)
    agents: list[Agent] = []
    readers: list[asyncio.Task[None]] = []
    for email in emails:
        cookie = await login_cookie(origin, email, PASSWORD)
        ws = await connect(
            f"{ws_base}/ws/console",
            origin=origin,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
            max_queue=None,
            ping_interval=None,
        )
        await ws.send('{"v":1,"type":"hello"}')
        agent = Agent(ws, stats)
        agents.append(agent)
        readers.append(asyncio.create_task(agent.read()))

    # Open the conversations: each shopper says hello and writes once, each agent answers
    # once (which assigns the conversation), so the measured phase is steady state.
    shoppers: list[Shopper] = []

    async def open_one(n: int) -> None:
        ws = await connect(
            f"{ws_base}/ws/widget?store={key}",
            origin=origin,  # type: ignore[arg-type]
            max_queue=None,
            ping_interval=None,
        )
        shopper = Shopper(ws, stats)
        readers.append(asyncio.create_task(shopper.read()))
        await ws.send(json.dumps({"v": 1, "type": "hello"}))
        await ws.send(
            json.dumps({"v": 1, "type": "message.send", "client_id": f"open-{n}", "text": "hello"})
        )
        await asyncio.wait_for(shopper.ready.wait(), 60)
        shoppers.append(shopper)

    for start in range(0, args.conversations, 200):
        await asyncio.gather(
            *(open_one(n) for n in range(start, min(start + 200, args.conversations)))
        )
    for n, shopper in enumerate(shoppers):
        agent = agents[n % len(agents)]
        agent.owned.add(shopper.conversation_id)
        await agent.ws.send(
            json.dumps(
                {
                    "v": 1,
                    "type": "message.send",
                    "client_id": f"take-{n}",
                    "conversation_id": shopper.conversation_id,
                    "text": "hi",
                }
            )
        )
    # Wait until every shopper has its agent's first answer: the measured phase starts
    # from an idle server, not from the back-log of the set-up.
    deadline = asyncio.get_running_loop().time() + 120
    while sum(stats.received[f"take-{n}"] > 0 for n in range(len(shoppers))) < len(shoppers):
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("the set-up messages did not all arrive")
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)

    # This process measures: its own collector's pauses would count as latency (the
    # server tunes its collector the same way, see portside/cli.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 2, 1000)

    # The measured phase: a fixed total rate, round-robin, alternating direction.
    owner = {s.conversation_id: agents[n % len(agents)] for n, s in enumerate(shoppers)}
    total = int(args.rate * args.seconds)
    interval = 1 / args.rate
    loop = asyncio.get_running_loop()
    cpu_before = cpu_seconds(pid)
    own_before = time.process_time()
    print("measuring", file=sys.stderr, flush=True)
    begin = loop.time()
    turns = [0] * len(shoppers)
    for i in range(total):
        due = begin + i * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        k = i % len(shoppers)
        shopper = shoppers[k]
        from_shopper = turns[k] % 2 == 0
        client_id = f"b-{i}-{'s' if from_shopper else 'a'}"
        turns[k] += 1
        stats.sent[client_id] = time.perf_counter()
        if from_shopper:
            await shopper.ws.send(
                json.dumps(
                    {"v": 1, "type": "message.send", "client_id": client_id, "text": f"q {i}"}
                )
            )
        else:
            await owner[shopper.conversation_id].ws.send(
                json.dumps(
                    {
                        "v": 1,
                        "type": "message.send",
                        "client_id": client_id,
                        "conversation_id": shopper.conversation_id,
                        "text": f"a {i}",
                    }
                )
            )
    elapsed = loop.time() - begin
    deadline = loop.time() + 10
    while loop.time() < deadline and sum(1 for c in stats.sent if stats.received[c]) < total:
        await asyncio.sleep(0.05)

    cpu_per_msg_ms = (cpu_seconds(pid) - cpu_before) / total * 1000
    own_per_msg_ms = (time.process_time() - own_before) / total * 1000
    rss = peak_rss_mb(pid)
    for reader in readers:
        reader.cancel()
    for conn in [*(s.ws for s in shoppers), *(a.ws for a in agents)]:
        with contextlib.suppress(Exception):
            await conn.close()
    lat = sorted(stats.latencies_ms)
    lost = sum(1 for c in stats.sent if not stats.received[c])
    duplicated = sum(n - 1 for c, n in stats.received.items() if c in stats.sent and n > 1)
    return {
        "conversations": len(shoppers),
        "agents": len(agents),
        "messages": total,
        "rate": args.rate,
        "seconds": args.seconds,
        "database": "postgresql" if args.database_url else "sqlite",
        "p50_ms": round(percentile(lat, 50), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2) if lat else None,
        "msgs_per_s": round(len(lat) / elapsed, 1),
        "p99_ms_to_agent": round(percentile(sorted(stats.by_direction["to_agent"]), 99), 2),
        "p99_ms_to_shopper": round(percentile(sorted(stats.by_direction["to_shopper"]), 99), 2),
        "lost": lost,
        "duplicated": duplicated,
        "errors": dict(stats.errors),
        "server_peak_rss_mb": rss,
        "server_cpu_ms_per_msg": round(cpu_per_msg_ms, 3),
        # The load generator shares the machine: if it is near a core, it is the limit.
        "client_cpu_ms_per_msg": round(own_per_msg_ms, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000, help="total messages per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--agents", type=int, default=4, help="console connections")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if args.conversations < 1 or args.rate <= 0 or args.seconds <= 0 or args.agents < 1:
        parser.error("--conversations, --rate, --seconds and --agents must be positive")
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
