"""Proactive message speed: from the shopper's event that makes a trigger rule true to the
proactive message on that shopper's screen (their widget socket).

Starts `portside serve` (SQLite) as a subprocess on a free port, with one store and two
rules: "big cart" (a product page and a cart of 100 or more, with a coupon from a pool)
and "leaving" (exit intent). --visitors widget sockets connect and each reports a
product page view; then they send --rate events a second in all, for --seconds: page
views, visibility changes, idle, small add-to-carts (the first page views, at the same
rate, are not measured). Among them, --triggers visitors
each send, once, the event that makes one of the rules true (an add-to-cart that takes
the cart to 150, or an exit intent), spread over the run. Latency is from sending that
event to the proactive message arriving on the visitor's socket; `lost` counts those
that never arrived. The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from _server import bench_env, cpu_seconds, peak_rss_mb, percentile, serving, wait_ready

PRODUCTS = ["linen-dress", "linen-shirt", "silk-scarf", "wool-coat", "denim-jacket"]
LANGUAGES = ["en-US", "es-ES", "de-DE", "fr-FR", "ja-JP", "zh-CN"]
BIG_CART = {
    "name": "Big cart",
    "priority": 1,
    "conditions": {
        "match": "all",
        "conditions": [
            {"type": "url", "include": ["https://shop.example/products/*"]},
            {"type": "cart_value", "min": 100},
        ],
    },
    "actions": {
        "message": {"texts": {"en": "Here is 10% off your cart", "es": "Un 10 % para tu carrito"}},
        "coupon": {"pool_id": 0},
        "open_widget": True,
        "notify_agents": False,
    },
}
LEAVING = {
    "name": "Leaving",
    "conditions": {"match": "all", "conditions": [{"type": "exit_intent"}]},
    "actions": {"message": {"texts": {"en": "Before you go: any questions?"}}},
}


async def make_store(data_dir: str, origin: str, codes: int) -> dict[str, Any]:
    """A store, a coupon pool and the two rules, written to the database before it starts."""
    from portside.bus.memory import MemoryEventBus
    from portside.clock import SystemClock
    from portside.config import Settings
    from portside.domain.trigger_rules import actions_to_dict, group_to_dict, parse_rule
    from portside.services.context import Services
    from portside.services.stores import do_create_store
    from portside.storage import coupon_store, trigger_store
    from portside.storage.database import Database
    from portside.storage.migrate import upgrade_async

    settings = Settings.from_env({"PORTSIDE_DATA_DIR": data_dir}).with_secret()
    await upgrade_async(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    svc = Services(settings=settings, db=db, bus=MemoryEventBus(), clock=SystemClock())
    store = await do_create_store(
        svc, name="Bench store", allowed_origins=[origin], default_language="en", timezone="UTC"
    )
    now = svc.clock.now()

    def write(conn: Any) -> None:
        pool_id = coupon_store.insert_pool(
            conn,
            store_id=store["id"],
            now=now,
            name="Bench pool",
            description={"en": "10% off", "es": "10 % de descuento"},
            pattern=None,
            expires_at=None,
            per_visitor_limit=1,
        )
        coupon_store.insert_codes(
            conn,
            store_id=store["id"],
            pool_id=pool_id,
            codes=[f"BENCH-{n:06d}" for n in range(codes)],
            now=now,
        )
        for body in (BIG_CART, LEAVING):
            if "coupon" in body["actions"]:
                body["actions"]["coupon"] = {"pool_id": pool_id}  # type: ignore[index]
            rule = parse_rule(body)
            trigger_store.insert_trigger(
                conn,
                store_id=store["id"],
                name=rule.name,
                enabled=True,
                priority=rule.priority,
                holdout_pct=0,
                conditions=group_to_dict(rule.conditions),
                actions=actions_to_dict(rule.actions),
                created_at=now,
                updated_at=now,
            )

    await db.write(write)
    await db.close()
    return store


class Shopper:
    def __init__(self, n: int, ws: ClientConnection) -> None:
        self.n = n
        self.ws = ws
        self.cart = 0
        self.events = 0
        self.sent_at: float | None = None  # when the event that makes a rule true went
        self.arrived_ms: float | None = None

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                head = raw[:24]
                if '"ping"' in head:
                    await self.ws.send('{"v":1,"type":"pong"}')
                    continue
                if '"event"' not in head or '"proactive"' not in raw:
                    continue
                event = json.loads(raw)["event"]
                if (
                    "proactive" in event["data"]
                    and self.sent_at is not None
                    and self.arrived_ms is None
                ):
                    self.arrived_ms = (time.perf_counter() - self.sent_at) * 1000

    async def track(self, kind: str, data: dict[str, Any]) -> None:
        self.events += 1
        event = {"client_id": f"b{self.n}-{self.events}", "type": kind, "data": data}
        await self.ws.send(
            json.dumps({"v": 1, "type": "track", "session_id": f"s{self.n}", "events": [event]})
        )

    async def page_view(self, rng: random.Random) -> None:
        product = rng.choice(PRODUCTS)
        url = f"https://shop.example/products/{product}"
        await self.track("page_view", {"url": url, "title": product, "product": product})

    async def ordinary(self, rng: random.Random) -> None:
        """An event that makes no rule true."""
        roll = rng.random()
        if roll < 0.4:
            await self.page_view(rng)
        elif roll < 0.6:
            await self.track("visibility", {"visible": rng.random() < 0.5})
        elif roll < 0.8:
            await self.track("idle", {"idle": rng.random() < 0.5})
        else:
            self.cart = min(90, self.cart + 15)
            await self.track(
                "add_to_cart",
                {"product": "silk-scarf", "quantity": 1, "price": "15", "cart_value": self.cart},
            )

    async def trigger(self, kind: str) -> None:
        self.sent_at = time.perf_counter()
        if kind == "cart":
            await self.track(
                "add_to_cart",
                {"product": "wool-coat", "quantity": 1, "price": "150", "cart_value": 150},
            )
        else:
            await self.track("exit_intent", {})


async def run(args: argparse.Namespace) -> dict[str, Any]:
    origin, port, env = bench_env(PORTSIDE_AGENT="off")
    store = await make_store(env["PORTSIDE_DATA_DIR"], origin, args.triggers)
    with serving(port, env) as server:
        await wait_ready(origin)
        return await load(args, origin, store, server.pid)


async def load(
    args: argparse.Namespace, origin: str, store: dict[str, Any], pid: int
) -> dict[str, Any]:
    ws_base = origin.replace("http", "ws", 1)
    rng = random.Random(11)
    url = f"{ws_base}/ws/widget?store={store['widget_key']}"

    async def arrive(n: int) -> Shopper:
        ws = await connect(url, origin=origin, max_queue=None, ping_interval=None)  # type: ignore[arg-type]
        language = LANGUAGES[n % len(LANGUAGES)]
        hello = {"v": 1, "type": "hello", "context": {"language": language}}
        await ws.send(json.dumps(hello))
        return Shopper(n, ws)

    shoppers: list[Shopper] = []
    for start in range(0, args.visitors, 50):
        shoppers += await asyncio.gather(
            *(arrive(n) for n in range(start, min(args.visitors, start + 50)))
        )
    readers = [asyncio.create_task(s.read()) for s in shoppers]
    # Each arrives on a product page, at the same rate as the events that follow.
    for shopper in shoppers:
        await shopper.page_view(rng)
        await asyncio.sleep(1 / args.rate)
    await asyncio.sleep(args.settle)

    # Which visitors make a rule true, with which event, and when (as the n-th event).
    total = int(args.rate * args.seconds)
    chosen = rng.sample(shoppers, min(args.triggers, len(shoppers)))
    at_event = sorted(rng.sample(range(total // 20, total), len(chosen)))
    plan = {
        index: (s, "cart" if k % 2 else "leave")
        for k, (index, s) in enumerate(zip(at_event, chosen, strict=True))
    }
    chosen_ids = {s.n for s in chosen}
    ordinary = [s for s in shoppers if s.n not in chosen_ids] or shoppers

    cpu_before = cpu_seconds(pid)
    begin = time.perf_counter()
    interval = 1 / args.rate
    for index in range(total):
        due = begin + index * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if index in plan:
            shopper, kind = plan[index]
            await shopper.trigger(kind)
        else:
            await rng.choice(ordinary).ordinary(rng)
    sent_for = time.perf_counter() - begin
    deadline = time.perf_counter() + args.timeout
    while time.perf_counter() < deadline and any(s.arrived_ms is None for s in chosen):
        await asyncio.sleep(0.1)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000
    rss = peak_rss_mb(pid)
    for task in readers:
        task.cancel()
    for shopper in shoppers:
        with contextlib.suppress(Exception):
            await shopper.ws.close()
    arrived = sorted(s.arrived_ms for s in chosen if s.arrived_ms is not None)
    return {
        "visitors": args.visitors,
        "events_per_s": round(total / sent_for, 1),
        "events": total,
        "fired": len(arrived),
        "p50_ms": round(percentile(arrived, 50), 2),
        "p99_ms": round(percentile(arrived, 99), 2),
        "max_ms": round(arrived[-1], 2) if arrived else None,
        "lost": len(chosen) - len(arrived),
        "server_peak_rss_mb": rss,
        "server_cpu_pct": round(cpu_ms / 10 / (time.perf_counter() - begin), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200, help="events a second, in all")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--triggers", type=int, default=400, help="visitors made to match")
    parser.add_argument("--settle", type=float, default=3, help="seconds after the first views")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if args.visitors < 1 or args.rate <= 0 or args.triggers < 1:
        parser.error("--visitors, --rate and --triggers must be positive")
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
