"""Handoff speed: from the moment a handoff commits to the chosen agent's console having
the conversation with its whole transcript and context packet.

Starts `portside serve` (SQLite, the embedded AI agent) as a subprocess on a free port,
with one store of --agents agents, each speaking one or two of the shoppers' languages,
all with a console open and online. --shoppers shoppers each say hello to the bot, then
all ask for a person in their own words at once. The bot hands each conversation off
with its context packet, and routing gives it to an agent in the same transaction.
A console is sent the whole conversation, from its first event, when it becomes its
agent's; the handoff counts as delivered when the console holds every event up to the
assignment, the context packet among them. Latency is from the handoff's commit (the
time of its events) to then. `lost` counts handoffs that never reached a console whole,
with their packet. The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from _server import bench_env, cpu_seconds, peak_rss_mb, percentile, serving, wait_ready

PASSWORD = "bench handoff password"
LANGUAGES = ["en", "de", "es", "zh", "fr", "ja"]
ASK = {
    "en": "I want to talk to a real person please",
    "de": "Ich möchte bitte mit einem Menschen sprechen",
    "es": "quiero hablar con una persona, por favor",
    "zh": "我要转人工客服",
    "fr": "je veux parler à un conseiller humain",
    "ja": "オペレーターと話したいです",
}
HELLO = {
    "en": "hi there",
    "de": "hallo",
    "es": "hola",
    "zh": "你好",
    "fr": "bonjour",
    "ja": "こんにちは",
}


async def make_store(data_dir: str, origin: str, agents: int, room: int) -> dict[str, Any]:
    """A store and its agents, written straight to the server's database before it starts."""
    from portside.clock import SystemClock
    from portside.config import Settings
    from portside.services.context import Services
    from portside.services.stores import do_create_agent, do_create_store
    from portside.storage.database import Database
    from portside.storage.migrate import upgrade_async
    from portside.storage.store_store import update_agent

    settings = Settings.from_env({"PORTSIDE_DATA_DIR": data_dir}).with_secret()
    await upgrade_async(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    from portside.bus.memory import MemoryEventBus

    svc = Services(settings=settings, db=db, bus=MemoryEventBus(), clock=SystemClock())
    store = await do_create_store(
        svc,
        name="Bench store",
        allowed_origins=[origin],
        default_language="en",
        timezone="UTC",
    )
    people = []
    for n in range(agents):
        agent = await do_create_agent(
            svc,
            store_id=store["id"],
            email=f"agent{n}@bench.example",
            name=f"Agent {n}",
            password=PASSWORD,
        )
        spoken = sorted({LANGUAGES[n % len(LANGUAGES)], "en"})
        await db.write(
            lambda conn, a=agent["id"], s=spoken: update_agent(
                conn, a, languages=s, max_concurrent=room
            )
        )
        people.append({**agent, "languages": spoken})
    await db.close()
    return {"store": store, "agents": people}


class Desk:
    """One agent's console: the conversations given to it arrive whole over its socket."""

    def __init__(self, agent_id: int, http: httpx.AsyncClient, ws: ClientConnection) -> None:
        self.agent_id = agent_id
        self.http = http
        self.ws = ws
        # Per conversation: the seqs received, and whether its context packet was one.
        self.seqs: dict[int, set[int]] = {}
        self.packet: set[int] = set()

    async def read(self, done: dict[int, float], packets: dict[int, bool]) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                # Frames start {"v":1,"type":"...": the inbox summaries of everyone else's
                # conversations (large, four a second) are skipped unread, as a browser
                # would parse them on its own core, not the load generator's.
                head = raw[:24]
                if '"ping"' in head:
                    await self.ws.send('{"v":1,"type":"pong"}')
                    continue
                if '"event"' not in head:
                    continue
                event = json.loads(raw)["event"]
                cid, seq = event["conversation_id"], event["seq"]
                self.seqs.setdefault(cid, set()).add(seq)
                if event["type"] == "conversation.handoff_context":
                    self.packet.add(cid)
                data = event["data"]
                if (
                    event["type"] == "conversation.status_changed"
                    and data["to"] == "assigned"
                    and (data.get("assignee") or {}).get("id") == self.agent_id
                    and cid not in done
                ):
                    # The console has it when every event up to this one is here.
                    whole = self.seqs[cid] >= set(range(1, seq + 1))
                    done[cid] = (time.time() - _epoch(event["at"])) * 1000
                    packets[cid] = whole and cid in self.packet


def _epoch(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    origin, port, env = bench_env(PORTSIDE_LOGINS_PER_MINUTE="100000")
    room = -(-args.shoppers // args.agents) + 2
    setup = await make_store(env["PORTSIDE_DATA_DIR"], origin, args.agents, room)
    with serving(port, env) as server:
        await wait_ready(origin)
        return await handoffs(args, origin, setup, server.pid)


async def handoffs(
    args: argparse.Namespace, origin: str, setup: dict[str, Any], pid: int
) -> dict[str, Any]:
    ws_base = origin.replace("http", "ws", 1)
    done: dict[int, float] = {}
    packets: dict[int, bool] = {}
    desks: list[Desk] = []
    tasks: list[asyncio.Task[None]] = []
    for agent in setup["agents"]:
        http = httpx.AsyncClient(base_url=origin, timeout=30)
        login = await http.post(
            "/api/v1/auth/login", json={"email": agent["email"], "password": PASSWORD}
        )
        login.raise_for_status()
        http.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        ws = await connect(
            f"{ws_base}/ws/console",
            origin=origin,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
            max_queue=None,
            ping_interval=None,
        )
        await ws.send(json.dumps({"v": 1, "type": "hello"}))
        desk = Desk(agent["id"], http, ws)
        desks.append(desk)
        tasks.append(asyncio.create_task(desk.read(done, packets)))

    key = setup["store"]["widget_key"]
    rng = random.Random(7)
    shoppers: list[tuple[ClientConnection, str]] = []
    for _ in range(args.shoppers):
        language = rng.choice(LANGUAGES)
        ws = await connect(
            f"{ws_base}/ws/widget?store={key}",
            origin=origin,  # type: ignore[arg-type]
            max_queue=None,
            ping_interval=None,
        )
        await ws.send(json.dumps({"v": 1, "type": "hello", "context": {"language": language}}))
        shoppers.append((ws, language))
        tasks.append(asyncio.create_task(_drain(ws)))
    # Every shopper has a conversation with the bot before asking for a person.
    for n, (ws, language) in enumerate(shoppers):
        await ws.send(
            json.dumps(
                {"v": 1, "type": "message.send", "client_id": f"h{n}", "text": HELLO[language]}
            )
        )
    await asyncio.sleep(args.settle)

    cpu_before = cpu_seconds(pid)
    begin = time.perf_counter()
    await asyncio.gather(
        *(
            ws.send(
                json.dumps(
                    {"v": 1, "type": "message.send", "client_id": f"p{n}", "text": ASK[lang]}
                )
            )
            for n, (ws, lang) in enumerate(shoppers)
        )
    )
    deadline = time.perf_counter() + args.timeout
    while len(done) < args.shoppers and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - begin
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000
    rss = peak_rss_mb(pid)
    for task in tasks:
        task.cancel()
    for desk in desks:
        with contextlib.suppress(Exception):
            await desk.ws.close()
        await desk.http.aclose()
    for ws, _ in shoppers:
        with contextlib.suppress(Exception):
            await ws.close()
    delivered = sorted(ms for cid, ms in done.items() if packets.get(cid))
    return {
        "agents": args.agents,
        "shoppers": args.shoppers,
        "handoffs": len(delivered),
        "seconds": round(elapsed, 1),
        "p50_ms": round(percentile(delivered, 50), 2),
        "p99_ms": round(percentile(delivered, 99), 2),
        "max_ms": round(delivered[-1], 2) if delivered else None,
        "lost": args.shoppers - len(delivered),
        "server_peak_rss_mb": rss,
        "server_cpu_ms_per_handoff": round(cpu_ms / max(1, len(delivered)), 2),
    }


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        async for raw in ws:
            if '"ping"' in raw:
                await ws.send('{"v":1,"type":"pong"}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--shoppers", type=int, default=500)
    parser.add_argument("--settle", type=float, default=10, help="seconds for the hellos")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if args.agents < 1 or args.shoppers < 1:
        parser.error("--agents and --shoppers must be positive")
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
