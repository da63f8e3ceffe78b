"""Scale-out: two Portside nodes on PostgreSQL and Redis, and one of them killed halfway.

1. The buses compared: chat_latency.py's load (fewer conversations) on one node with the
   in-process bus, then on one node with the Redis bus, both on PostgreSQL.
2. The cluster: the schema migrated once, then nodes A and B on one PostgreSQL, one
   Redis and one secret key, the AI agent off. Worker processes open --idle widget
   connections, half on each node (each a visitor: hello, welcome), and hold them for
   the whole run, answering the heartbeat. --conversations shoppers (half on A, half on
   B) talk with agents whose consoles are on the other node: for --seconds, --rate
   messages a second in all, round-robin, alternately shopper -> agent and agent ->
   shopper. Latency is from the send on one node's socket to the event arriving on the
   other node's socket (both ends in this process, one clock).
3. Halfway, node A is killed (SIGKILL). Every client of it reconnects to B by itself
   (the clients know both addresses, as a load balancer would) with backoff and jitter,
   and resumes from its last seq; reconnect time is from the kill to the welcome on B.
   Sends go on throughout; what could not go out is sent again after the welcome.
   Afterwards what every client received is compared with the database log.
4. Node A is started again; new widgets land on it and talk with consoles on B.

The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import chat_latency
from _clients import Console, Widget, login_cookie
from _idle import IdleShare, hold, report_of, run_loop
from _nodes import (
    PASSWORD,
    SHOP,
    Node,
    check_services,
    load_average,
    make_nodes,
    set_up_store,
)
from _server import cpu_seconds, node_connections, peak_rss_mb, raise_file_limit, rss_mb
from _tally import Watch, read_log, tally
from _timing import A, Latency, console_hears, reconnects, shopper_hears

B = 1  # the node that survives
SETTLE_S = 60
RECONNECT_WAIT_S = 120


@dataclass
class Talk:
    shopper: Widget
    console: Console
    conversation_id: int = 0


STARTED = time.monotonic()


def step(what: str) -> None:
    """Progress on stderr: the last line of stdout is the result."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {what}", file=sys.stderr, flush=True)


async def until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {within:.0f} s")
        await asyncio.sleep(0.05)


async def compare_buses(args: argparse.Namespace) -> dict[str, Any]:
    """chat_latency's load on one node: the in-process bus, then the Redis bus."""
    load = argparse.Namespace(
        conversations=args.compare_conversations,
        rate=args.compare_rate,
        seconds=args.compare_seconds,
        agents=4,
        database_url=args.database_url,
    )
    keys = ("p50_ms", "p99_ms", "max_ms", "lost", "duplicated", "server_cpu_ms_per_msg")
    step("one node, in-process bus")
    memory = await chat_latency.run(load)
    step("one node, Redis bus")
    on_redis = await chat_latency.run(load, PORTSIDE_REDIS_URL=args.redis_url)
    return {
        "conversations": load.conversations,
        "rate": load.rate,
        "seconds": load.seconds,
        "memory": {key: memory[key] for key in keys},
        "redis": {key: on_redis[key] for key in keys},
    }


async def open_idle(
    args: argparse.Namespace, origins: list[str], store_key: str
) -> tuple[list[tuple[SpawnProcess, Connection]], int]:
    """The workers, each holding its share of the idle widgets; how many were welcomed."""
    spawn = multiprocessing.get_context("spawn")
    workers = []
    first = 0
    for n in range(args.workers):
        count = args.idle // args.workers + (1 if n < args.idle % args.workers else 0)
        share = IdleShare(origins, store_key, SHOP, count, first, batch=100)
        first += count
        ours, theirs = spawn.Pipe()
        process = spawn.Process(target=hold, args=(share, theirs), daemon=True)
        process.start()
        workers.append((process, ours))
    loop = asyncio.get_running_loop()
    opened = await asyncio.gather(*(loop.run_in_executor(None, pipe.recv) for _, pipe in workers))
    welcomed = sum(report["welcomed"] for report in opened)
    if welcomed < args.idle:
        step(f"{args.idle - welcomed} idle widgets were not welcomed")
    return workers, welcomed


async def ask(pipe: Connection, command: str) -> Any:
    pipe.send(command)
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


async def open_talks(
    args: argparse.Namespace,
    origins: list[str],
    store_key: str,
    consoles: list[Console],
    latency: Latency,
) -> list[Talk]:
    """Each shopper writes once, and the agent on the other node answers (and so takes
    the conversation): the measured phase starts from steady state."""
    on_node: list[list[Console]] = [[c for c in consoles if c.home == n] for n in (A, B)]
    talks = []
    for k in range(args.conversations):
        home = k % 2
        shopper = Widget(origins, home, store_key, SHOP)
        shopper.on_message = shopper_hears(latency)
        others = on_node[1 - home]
        talks.append(Talk(shopper, others[(k // 2) % len(others)]))
    for start in range(0, len(talks), 200):
        batch = talks[start : start + 200]
        for talk in batch:
            talk.shopper.start()
        await asyncio.wait_for(asyncio.gather(*(t.shopper.welcomed() for t in batch)), 120)
        for n, talk in enumerate(batch, start):
            await talk.shopper.send("message.send", f"open-{n}", text="hello")
    await consoles_answer(talks, latency, "open", "take", "setup", 120, "the first messages")
    await until(
        lambda: all(f"take-{n}" in latency.heard for n in range(len(talks))),
        120,
        "the agents' first answers",
    )
    return talks


async def consoles_answer(
    talks: list[Talk],
    latency: Latency,
    asked: str,
    answer: str,
    phase: str,
    within: float,
    what: str,
) -> None:
    """Once every shopper's message `asked`-n is acknowledged, each talk's console follows
    its conversation and answers it (`answer`-n, timed in `phase`)."""
    await until(
        lambda: all(t.shopper.ack(f"{asked}-{n}") for n, t in enumerate(talks)), within, what
    )
    for n, talk in enumerate(talks):
        ack = talk.shopper.ack(f"{asked}-{n}")
        assert ack is not None
        talk.conversation_id = ack["conversation_id"]
        talk.console.conversations.add(talk.conversation_id)
        latency.send(f"{answer}-{n}", phase)
        await talk.console.send(
            "message.send", f"{answer}-{n}", conversation_id=talk.conversation_id, text="hi"
        )


async def converse(
    args: argparse.Namespace, talks: list[Talk], latency: Latency, nodes: list[Node]
) -> dict[str, Any]:
    """The measured phase; node A is killed halfway. Returns the kill's time and what
    node A held just before it."""
    loop = asyncio.get_running_loop()
    total = int(args.rate * args.seconds)
    kill_at = total // 2
    interval = 1 / args.rate
    turns = [0] * len(talks)
    killed: dict[str, Any] = {}
    phase = "cross_node"
    own_cpu = time.process_time()
    node_cpu = sum(cpu_seconds(node.pid) for node in nodes)
    step(f"measuring: {total} messages over {args.seconds:g} s")
    begin = loop.time()
    for i in range(total):
        delay = begin + i * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if i == kill_at:
            node_cpu = sum(cpu_seconds(node.pid) for node in nodes) - node_cpu
            killed = {
                "nodes_cpu_ms_per_msg": round(node_cpu / max(1, i) * 1000, 3),
                "rss_mb": rss_mb(nodes[A].pid),
                "peak_rss_mb": peak_rss_mb(nodes[A].pid),
            }
            killed["at"] = time.monotonic()
            killed["survivor_cpu_s"] = cpu_seconds(nodes[B].pid)
            nodes[A].kill()
            phase = "after_kill"
            step(f"node A killed after {i} messages")
        k = i % len(talks)
        talk = talks[k]
        from_shopper = turns[k] % 2 == 0
        turns[k] += 1
        client_id = f"m{i}{'s' if from_shopper else 'a'}"
        latency.send(client_id, phase)
        sender = talk.shopper if from_shopper else talk.console
        await sender.send(
            "message.send", client_id, conversation_id=talk.conversation_id, text=f"m {i}"
        )
    elapsed = loop.time() - begin
    killed["client_cpu_pct"] = round((time.process_time() - own_cpu) / elapsed * 100, 1)
    killed["send_rate"] = round(total / elapsed, 1)
    return killed


async def reconnected(
    clients: list[Widget | Console], workers: list[tuple[SpawnProcess, Connection]], idle: int
) -> None:
    """Wait until every client is welcomed again (at most RECONNECT_WAIT_S)."""
    deadline = time.monotonic() + RECONNECT_WAIT_S
    while time.monotonic() < deadline:
        held = [await ask(pipe, "connected") for _, pipe in workers]
        if sum(held) >= idle and all(c.connected for c in clients):
            return
        await asyncio.sleep(0.5)


async def rejoin(
    args: argparse.Namespace,
    nodes: list[Node],
    origins: list[str],
    store_key: str,
    consoles: list[Console],
    latency: Latency,
) -> tuple[dict[str, Any], list[Talk]]:
    """Node A again: new widgets land on it and talk with a console on B."""
    nodes[A].start()
    await nodes[A].ready()
    talks = []
    for n in range(args.rejoin):
        shopper = Widget(origins, A, store_key, SHOP)
        shopper.on_message = shopper_hears(latency)
        shopper.start()
        talks.append(Talk(shopper, consoles[n % len(consoles)]))
    await asyncio.wait_for(asyncio.gather(*(t.shopper.welcomed() for t in talks)), 60)
    landed = sum(1 for t in talks if t.shopper.node == A)
    for n, talk in enumerate(talks):
        latency.send(f"rejoin-{n}", "rejoin")
        await talk.shopper.send("message.send", f"rejoin-{n}", text="back again")
    await consoles_answer(talks, latency, "rejoin", "rejoin-answer", "rejoin", 60, "rejoin acks")
    with contextlib.suppress(SystemExit):
        await until(
            lambda: all(
                f"rejoin-{n}" in latency.heard and f"rejoin-answer-{n}" in latency.heard
                for n in range(len(talks))
            ),
            30,
            "the rejoin exchange",
        )
    exchanged = sum(
        1
        for n in range(len(talks))
        if f"rejoin-{n}" in latency.heard and f"rejoin-answer-{n}" in latency.heard
    )
    consoles_on_b = sum(1 for c in consoles if c.node == B)
    return {
        "clients": len(talks),
        "landed_on_restarted_node": landed,
        "exchanged_with_other_node": exchanged,
        "consoles_on_other_node": consoles_on_b,
    }, talks


async def scale_out(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="portside-cluster-"))
    nodes = make_nodes(args.database_url, args.redis_url, root)
    origins = [node.origin for node in nodes]
    step("migrating, creating the store")
    store, emails = await asyncio.to_thread(set_up_store, nodes[A].env, args.agents)
    step("starting nodes A and B")
    workers: list[tuple[SpawnProcess, Connection]] = []
    clients: list[Widget | Console] = []
    try:
        for node in nodes:
            node.start()
        await asyncio.gather(*(node.ready() for node in nodes))

        started = time.monotonic()
        cpu = [cpu_seconds(node.pid) for node in nodes]
        workers, idle_welcomed = await open_idle(args, origins, store["widget_key"])
        idle_open_s = time.monotonic() - started
        connect_cpu_s = sum(cpu_seconds(node.pid) for node in nodes) - sum(cpu)
        step(f"{args.idle} idle widgets open in {idle_open_s:.1f} s")

        latency = Latency()
        consoles = []
        for n, email in enumerate(emails):
            console = Console(origins, n % 2, await login_cookie(origins[n % 2], email, PASSWORD))
            console.on_message = console_hears(latency)
            console.start()
            consoles.append(console)
        clients.extend(consoles)
        await asyncio.wait_for(asyncio.gather(*(c.welcomed() for c in consoles)), 60)
        step(f"opening {args.conversations} conversations")
        talks = await open_talks(args, origins, store["widget_key"], consoles, latency)
        clients.extend(t.shopper for t in talks)
        await asyncio.sleep(1)
        held = [await node_connections(node.origin) for node in nodes]
        rss = [rss_mb(node.pid) for node in nodes]
        gc.collect()
        gc.freeze()

        killed = await converse(args, talks, latency, nodes)
        # Everything sent reaches the other side, and every outbox empties.
        with contextlib.suppress(SystemExit):
            await until(
                lambda: (
                    all(c.pending() == 0 for c in clients)
                    and all(c in latency.heard for c in latency.sent)
                ),
                SETTLE_S,
                "delivery of everything sent",
            )
        step("delivered")
        await reconnected(clients, workers, idle_welcomed)
        step("reconnected")
        # How busy the survivor was from the kill until everyone was back.
        busy_s = cpu_seconds(nodes[B].pid) - killed["survivor_cpu_s"]
        busy_pct = busy_s / (time.monotonic() - killed["at"]) * 100
        reports = [report_of(c) for c in clients]
        for _, pipe in workers:
            reports.extend(await ask(pipe, "report"))
        failover = reconnects(reports, killed["at"])
        after_kill = await node_connections(nodes[B].origin)

        step("restarting node A")
        rejoined, rejoin_talks = await rejoin(
            args, nodes, origins, store["widget_key"], consoles, latency
        )
        clients.extend(t.shopper for t in rejoin_talks)
        rejoined["connections"] = [await node_connections(node.origin) for node in nodes]

        step("comparing with the log")
        all_talks = talks + rejoin_talks
        log = await read_log(args.database_url, [t.conversation_id for t in all_talks])
        counted = tally(
            [Watch(t.conversation_id, t.shopper, t.console) for t in all_talks],
            log,
            latency.sent,
        )
        survivor_peak = peak_rss_mb(nodes[B].pid)
        survivor_rss = rss_mb(nodes[B].pid)
    finally:
        step("closing")
        await asyncio.gather(*(client.close() for client in clients))
        for process, pipe in workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ask(pipe, "close"), 60)
            process.join(10)
            if process.is_alive():
                process.kill()
        for node in nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in nodes:
            node.stop()
            step(f"node {node.name} stopped")

    errors: Counter[str] = Counter()
    for client in clients:
        errors.update(client.errors)
    return {
        "connections": sum(sum(h.values()) for h in held),
        "connections_per_node": {node.name: h for node, h in zip(nodes, held, strict=True)},
        "rss_mb_per_node": {node.name: r for node, r in zip(nodes, rss, strict=True)},
        "idle_welcomed": idle_welcomed,
        "idle_open_s": round(idle_open_s, 1),
        # Both nodes' CPU per idle widget's connect (a new visitor: hello to welcome).
        "server_cpu_ms_per_connect": round(connect_cpu_s / max(1, args.idle) * 1000, 2),
        # Both nodes' CPU per message sent before the kill (stored on one node,
        # delivered from the other).
        "server_cpu_ms_per_msg": killed["nodes_cpu_ms_per_msg"],
        "cross_node": latency.phase("cross_node", killed["at"]),
        "after_kill": latency.phase("after_kill", killed["at"]),
        "reconnect": failover,
        "survivor": {
            "cpu_s_until_reconnected": round(busy_s, 1),
            "cpu_pct_until_reconnected": round(busy_pct, 1),
            "connections": after_kill,
            "rss_mb": survivor_rss,
            "peak_rss_mb": survivor_peak,
        },
        "killed": {"rss_mb": killed["rss_mb"], "peak_rss_mb": killed["peak_rss_mb"]},
        "rejoin": rejoined,
        "tally": counted.as_dict(),
        "lost": counted.lost,
        "duplicated": counted.duplicated,
        # Error frames the active clients got, by code.
        "errors": dict(errors),
        "client_cpu_pct": killed["client_cpu_pct"],
        "send_rate": killed["send_rate"],
        "logs": str(root),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    # Node B ends up holding every socket, and this process the active ones.
    raise_file_limit(args.idle + args.conversations + args.agents + args.rejoin + 1024)
    await check_services(args.database_url, args.redis_url)
    buses = await compare_buses(args) if args.compare_seconds > 0 else None
    cluster = await scale_out(args)
    cross = cluster["cross_node"]
    return {
        "nodes": 2,
        "connections": cluster["connections"],
        "p50_ms": cross["p50_ms"],
        "p99_ms": cross["p99_ms"],
        "lost": cluster["lost"],
        "duplicated": cluster["duplicated"],
        "reconnect_p99_ms": cluster["reconnect"]["p99_ms"],
        **{k: v for k, v in cluster.items() if k not in ("lost", "duplicated", "connections")},
        "buses": buses,
        "parameters": {
            "idle": args.idle,
            "conversations": args.conversations,
            "agents": args.agents,
            "rate": args.rate,
            "seconds": args.seconds,
            "workers": args.workers,
            "database": "postgresql",
        },
        "loadavg": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=10_000, help="idle widget connections")
    parser.add_argument("--conversations", type=int, default=1000, help="active conversations")
    parser.add_argument("--rate", type=float, default=200, help="total messages per second")
    parser.add_argument("--seconds", type=float, default=30, help="node A is killed halfway")
    parser.add_argument("--agents", type=int, default=4, help="consoles, half on each node")
    parser.add_argument("--workers", type=int, default=2, help="processes holding idle widgets")
    parser.add_argument("--rejoin", type=int, default=20, help="new widgets on the restarted node")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/test", help="PostgreSQL"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--compare-conversations", type=int, default=200)
    parser.add_argument("--compare-rate", type=float, default=200)
    parser.add_argument(
        "--compare-seconds", type=float, default=10, help="per bus; 0 skips the comparison"
    )
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if args.idle < 0 or args.rejoin < 0 or args.compare_seconds < 0:
        parser.error("--idle, --rejoin and --compare-seconds must be 0 or more")
    if min(args.conversations, args.rate, args.seconds, args.workers) <= 0:
        parser.error("--conversations, --rate, --seconds and --workers must be positive")
    if args.agents < 2:
        parser.error("--agents must be at least 2: one console on each node")
    if args.compare_seconds and (args.compare_conversations < 1 or args.compare_rate <= 0):
        parser.error("--compare-conversations and --compare-rate must be positive")
    per_console = -(-((args.conversations + 1) // 2) // (args.agents // 2))
    if per_console > 1000:
        parser.error(
            f"each console would have {per_console} conversations, and a console resumes "
            "at most 1000: use more --agents"
        )
    print(json.dumps(run_loop(run(args))), flush=True)


if __name__ == "__main__":
    main()
