"""Analytics speed: how long a store's numbers take over HTTP on a store of real size.

Writes a store's history straight into the database before `portside serve` starts
(SQLite in a temporary directory, or --database-url): --days of it (90 by default)
ending at the last midnight (UTC), --conversations conversations of about eight events
each (the shopper and the AI agent talk; some are handed to a person, assigned,
answered and resolved; some open with a proactive message), --visitors visitors with
--visitor-events visitor events each (page views, time on page, carts, checkouts),
--orders orders credited to conversations, rules' proactive messages and coupons,
--rules trigger rules that held for --fire-share of the visitors each (a tenth held
out), and a rating asked for some resolutions; --other-stores as big beside it, not
measured, to share the tables with. Then, signed in as the store's admin, it
reads every report (each of its breakdowns in turn, --repeat times) as JSON and as CSV,
and the overview, for the last 7, 30 and 90 days. The last line printed is one JSON
object: the sizes, and per report and range the median and the longest time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from _server import bench_env, percentile, serving, wait_ready

PASSWORD = "bench-password-1"
AGENTS = 12
LOCALES = [
    ("en-US", "US"), ("en-GB", "GB"), ("de-DE", "DE"), ("fr-FR", "FR"), ("es-ES", "ES"),
    ("es-MX", "MX"), ("ja-JP", "JP"), ("zh-CN", "CN"), ("it-IT", "IT"), ("nl-NL", "NL"),
]  # fmt: skip
CURRENCIES = ["EUR", "EUR", "EUR", "USD", "USD", "GBP", "JPY"]
REPORTS = {
    "conversations": ("day", "language", "country", "agent"),
    "response_times": ("day", "language", "country", "agent"),
    "csat": ("day", "language", "country", "agent"),
    "conversion": ("day", "language", "country"),
    "uplift": ("rule",),
    "recovery": ("day", "language", "country", "rule"),
    "revenue": ("day", "language", "country", "rule"),
}
RANGES = (7, 30, 90)
CHUNK = 5000  # rows per INSERT ... (executemany)


class History:
    """A store's history as rows, made from one seeded random generator."""

    def __init__(
        self, args: argparse.Namespace, store_id: int, agents: list[int], seed: int
    ) -> None:
        self.args, self.store_id, self.agents = args, store_id, agents
        self.rng = random.Random(seed)
        self.end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = self.end - timedelta(days=args.days)

    def at(self, after: datetime, within: timedelta) -> datetime:
        """A moment after `after`, within `within` of it, before the history's end."""
        span = max(0.0, min(within.total_seconds(), (self.end - after).total_seconds() - 1))
        return after + timedelta(seconds=self.rng.uniform(0, span))

    def visitors(self) -> list[dict[str, Any]]:
        rows = []
        for _ in range(self.args.visitors):
            language, country = self.rng.choice(LOCALES)
            born = self.at(self.start, self.end - self.start)
            rows.append(
                {
                    "store_id": self.store_id,
                    "created_at": born,
                    "last_seen_at": born,
                    "language": language,
                    "country": country,
                }
            )
        return rows

    def visitor_events(self, visitors: list[tuple[int, datetime]]) -> list[dict[str, Any]]:
        rows = []
        for visitor_id, born in visitors:
            at = born
            cart = 0
            for n in range(self.args.visitor_events):
                at = self.at(at, timedelta(hours=2 if n else 0))
                roll = self.rng.random()
                data: dict[str, Any] = {}
                if roll < 0.55:
                    kind, data = "page_view", {"title": "Linen dress", "product": "linen-dress"}
                elif roll < 0.8:
                    kind, data = "time_on_page", {"seconds": self.rng.randint(5, 300)}
                elif roll < 0.93:
                    cart += 25
                    kind, data = "add_to_cart", {"product": "silk-scarf", "cart_value": cart}
                elif roll < 0.97:
                    kind, data = "checkout_started", {"cart_value": str(cart or 25)}
                else:
                    kind = "checkout_completed"
                rows.append(
                    {
                        "store_id": self.store_id,
                        "visitor_id": visitor_id,
                        "session_id": f"s{visitor_id}",
                        "type": kind,
                        "client_id": f"{visitor_id}-{n}",
                        "url": "https://shop.example/products/linen-dress",
                        "data": data,
                        "at": at,
                    }
                )
        return rows

    def conversation(self, visitor_id: int, born: datetime) -> tuple[dict[str, Any], list[Any]]:
        """One conversation's row and its events (without conversation_id)."""
        rng = self.rng
        steps: list[tuple[str, str, int | None, dict[str, Any], datetime]] = []
        status, assignee = "bot", None
        handoff_at = first_reply_at = resolved_at = None

        def say(actor: str, at: datetime, actor_id: int | None = None) -> None:
            steps.append(("message.created", actor, actor_id, {"text": f"{actor} says hi"}, at))

        def change(to: str, at: datetime, who: int | None, actor: str = "system") -> None:
            nonlocal status, assignee
            data = {"from": status, "to": to, "assignee": who and {"id": who}}
            steps.append(("conversation.status_changed", actor, who, data, at))
            status, assignee = to, who

        t = self.at(born, timedelta(days=2))
        if rng.random() < 0.1:  # a proactive message first
            say("bot", t)
            t = self.at(t, timedelta(minutes=5))
        say("visitor", t)
        t += timedelta(seconds=rng.uniform(1.5, 6))
        say("bot", t)
        t += timedelta(seconds=rng.uniform(20, 120))
        say("visitor", t)
        t += timedelta(seconds=rng.uniform(1.5, 6))
        say("bot", t)
        if rng.random() < 0.8:
            t += timedelta(seconds=rng.uniform(20, 120))
            say("visitor", t)
            t += timedelta(seconds=rng.uniform(1.5, 6))
            say("bot", t)
        roll = rng.random()
        if roll < 0.35:
            t += timedelta(seconds=rng.uniform(10, 60))
            handoff_at = t
            change("queued", t, None)
            agent = rng.choice(self.agents)
            t += timedelta(seconds=rng.uniform(2, 120))
            change("assigned", t, agent)
            t += timedelta(seconds=rng.uniform(10, 300))
            first_reply_at = t
            say("agent", t, agent)
            t += timedelta(seconds=rng.uniform(10, 120))
            say("visitor", t)
            if rng.random() < 0.8:
                t += timedelta(seconds=rng.uniform(30, 600))
                resolved_at = t
                change("resolved", t, agent, "agent")
        elif roll < 0.85:
            t += timedelta(seconds=rng.uniform(30, 600))
            resolved_at = t
            change("resolved", t, None, "bot")
        row = {
            "store_id": self.store_id,
            "visitor_id": visitor_id,
            "status": status,
            "assignee_id": assignee,
            "last_seq": len(steps),
            "created_at": steps[0][4],
            "updated_at": max(step[4] for step in steps),
            "handoff_at": handoff_at,
            "first_reply_at": first_reply_at,
            "resolved_at": resolved_at,
        }
        return row, steps


async def make_store(args: argparse.Namespace, data_dir: str, origin: str) -> dict[str, Any]:
    """A store, its admin and agents, and its history, written before the server starts."""
    from sqlalchemy import Connection, insert, text

    from portside.bus.memory import MemoryEventBus
    from portside.clock import SystemClock
    from portside.config import Settings
    from portside.services.context import Services
    from portside.services.stores import do_create_agent, do_create_store
    from portside.storage.database import Database
    from portside.storage.migrate import upgrade_async
    from portside.storage.tables import (
        conversations,
        events,
        order_attributions,
        orders,
        ratings,
        trigger_fires,
        triggers,
        visitor_events,
        visitors,
    )

    env = {"PORTSIDE_DATA_DIR": data_dir}
    if args.database_url:
        env["PORTSIDE_DATABASE_URL"] = args.database_url
    settings = Settings.from_env(env).with_secret()
    await upgrade_async(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    svc = Services(settings=settings, db=db, bus=MemoryEventBus(), clock=SystemClock())
    stores, histories = [], []
    # The measured store first, then --other-stores like it, sharing the server's tables.
    for k in range(1 + args.other_stores):
        store = await do_create_store(
            svc,
            name="Bench store" if k == 0 else f"Other store {k}",
            allowed_origins=[origin],
            default_language="en",
            timezone=args.timezone,
        )
        prefix = "" if k == 0 else f"store{k}-"
        admin = await do_create_agent(
            svc,
            store_id=store["id"],
            email=f"{prefix}admin@bench.example",
            name="Admin",
            password=PASSWORD,
            role="admin",
        )
        agent_ids = [admin["id"]]
        for n in range(AGENTS - 1):
            agent = await do_create_agent(
                svc,
                store_id=store["id"],
                email=f"{prefix}agent{n}@bench.example",
                name=f"Agent {n}",
                password=PASSWORD,
            )
            agent_ids.append(agent["id"])
        stores.append(store)
        histories.append(History(args, store["id"], agent_ids, seed=args.seed + k))

    def insert_all(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        """Insert rows in chunks; their ids, in order."""
        ids: list[int] = []
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        for n in range(0, len(rows), CHUNK):
            ids += [row.id for row in conn.execute(statement, rows[n : n + CHUNK])]
        return ids

    def write(conn: Connection, history: History) -> dict[str, int]:
        rng, sid = history.rng, history.store_id
        visitor_rows = history.visitors()
        visitor_ids = insert_all(conn, visitors, visitor_rows)
        born = [
            (vid, row["created_at"]) for vid, row in zip(visitor_ids, visitor_rows, strict=True)
        ]
        insert_all(conn, visitor_events, history.visitor_events(born))

        # Conversations, then their events, ratings for some resolutions.
        made = [history.conversation(*rng.choice(born)) for _ in range(args.conversations)]
        conversation_ids = insert_all(conn, conversations, [row for row, _steps in made])
        event_rows, rating_rows = [], []
        by_visitor: dict[int, int] = {}
        for cid, (row, steps) in zip(conversation_ids, made, strict=True):
            by_visitor[row["visitor_id"]] = cid
            for seq, (kind, actor, actor_id, data, at) in enumerate(steps, start=1):
                event_rows.append(
                    {
                        "store_id": sid,
                        "conversation_id": cid,
                        "seq": seq,
                        "type": kind,
                        "actor_type": actor,
                        "actor_id": actor_id if actor == "agent" else None,
                        "data": data,
                        "created_at": at,
                    }
                )
            if row["resolved_at"] is not None and rng.random() < 0.4:
                answered = rng.random() < 0.6
                rating_rows.append(
                    {
                        "store_id": sid,
                        "conversation_id": cid,
                        "resolved_seq": len(steps),
                        "resolved_by": "bot" if row["assignee_id"] is None else "agent",
                        "agent_id": row["assignee_id"],
                        "score": rng.choice([5, 5, 5, 4, 4, 3, 2, 1]) if answered else None,
                        "created_at": row["resolved_at"],
                        "rated_at": row["resolved_at"] + timedelta(minutes=2) if answered else None,
                    }
                )
        insert_all(conn, events, event_rows)
        insert_all(conn, ratings, rating_rows)

        # Rules and the visitors they held for.
        rule_ids = insert_all(
            conn,
            triggers,
            [
                {
                    "store_id": sid,
                    "name": f"Rule {n + 1}",
                    "enabled": True,
                    "priority": n,
                    "conditions": {"match": "all", "conditions": []},
                    "actions": {"message": None, "coupon": None},
                    "holdout_pct": 10,
                    "created_at": history.start,
                    "updated_at": history.start,
                }
                for n in range(args.rules)
            ],
        )
        fire_rows = []
        for rule_id in rule_ids:
            chosen = rng.sample(born, int(len(born) * args.fire_share))
            fire_rows += [
                {
                    "store_id": sid,
                    "trigger_id": rule_id,
                    "visitor_id": vid,
                    "held_out": rng.random() < 0.1,
                    "at": history.at(at, timedelta(hours=3)),
                    "context": {"url": "https://shop.example/products/linen-dress"},
                }
                for vid, at in chosen
            ]
        fire_ids = insert_all(conn, trigger_fires, fire_rows)
        fire_of = {
            row["visitor_id"]: (fid, row) for fid, row in zip(fire_ids, fire_rows, strict=True)
        }

        # Orders, most by a known visitor, credited to what led to them.
        order_rows, credits = [], []
        for n in range(args.orders):
            vid, at = rng.choice(born)
            placed = history.at(at, timedelta(days=3))
            cancelled = rng.random() < 0.05
            order_rows.append(
                {
                    "store_id": sid,
                    "number": f"B{n:07d}",
                    "data": {"number": f"B{n:07d}"},
                    "source": "api",
                    "visitor_id": vid if rng.random() < 0.85 else None,
                    "status": "cancelled" if cancelled else rng.choice(["paid", "placed"]),
                    "total_cents": rng.randint(1500, 40000),
                    "currency": rng.choice(CURRENCIES),
                    "placed_at": placed,
                    "cancelled_at": placed if cancelled else None,
                    "updated_at": placed,
                }
            )
            ids: list[dict[str, Any]] = []
            if vid in by_visitor and rng.random() < 0.5:
                ids.append({"kind": "conversation", "conversation_id": by_visitor[vid]})
            if vid in fire_of and not fire_of[vid][1]["held_out"] and rng.random() < 0.6:
                fire_id, fire = fire_of[vid]
                ids.append(
                    {"kind": "trigger", "trigger_id": fire["trigger_id"], "fire_id": fire_id}
                )
            if rng.random() < 0.15:
                ids.append({"kind": "coupon"})
            credits.append((placed, ids))
        order_ids = insert_all(conn, orders, order_rows)
        attribution_rows = [
            {
                "store_id": sid,
                "order_id": order_id,
                "ref": f"{ids['kind']}:{order_id}",
                "created_at": placed,
                "conversation_id": None,
                "trigger_id": None,
                "fire_id": None,
                **ids,
            }
            for order_id, (placed, credited) in zip(order_ids, credits, strict=True)
            for ids in credited
        ]
        insert_all(conn, order_attributions, attribution_rows)
        return {
            "conversations": len(conversation_ids),
            "events": len(event_rows),
            "visitors": len(visitor_ids),
            "orders": len(order_ids),
            "fires": len(fire_ids),
            "ratings": len(rating_rows),
        }

    began = time.perf_counter()
    sizes = [await db.write(lambda conn, h=h: write(conn, h)) for h in histories]  # type: ignore[misc]
    if not db.is_sqlite:
        await db.write(lambda conn: conn.execute(text("ANALYZE")))
    await db.close()
    build_s = round(time.perf_counter() - began, 1)
    return {"store": stores[0], "sizes": sizes[0], "build_s": build_s, "end": histories[0].end}


async def measure(
    args: argparse.Namespace, origin: str, end: datetime
) -> dict[str, dict[str, float]]:
    async with httpx.AsyncClient(base_url=origin, timeout=300) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": "admin@bench.example", "password": PASSWORD}
        )
        login.raise_for_status()
        last = end.date()
        timings: dict[str, list[float]] = {}

        async def timed(name: str, path: str, params: dict[str, str]) -> None:
            begin = time.perf_counter()
            response = await http.get(path, params=params)
            elapsed = (time.perf_counter() - begin) * 1000
            response.raise_for_status()
            timings.setdefault(name, []).append(elapsed)

        for days in RANGES:
            span = {"from": (last - timedelta(days=days)).isoformat(), "to": last.isoformat()}
            for _ in range(args.repeat):
                await timed(f"overview {days}d", "/api/v1/analytics/overview", span)
                for report, breakdowns in REPORTS.items():
                    for by in breakdowns:
                        for suffix in ("", ".csv"):
                            await timed(
                                f"{report}{suffix} {days}d",
                                f"/api/v1/analytics/{report}{suffix}",
                                {**span, "by": by},
                            )
    return {
        name: {
            "p50_ms": round(percentile(sorted(values), 50), 1),
            "max_ms": round(max(values), 1),
        }
        for name, values in timings.items()
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    origin, port, env = bench_env(PORTSIDE_AGENT="off")
    if args.database_url:
        env["PORTSIDE_DATABASE_URL"] = args.database_url
    made = await make_store(args, env["PORTSIDE_DATA_DIR"], origin)
    with serving(port, env):
        await wait_ready(origin)
        reports = await measure(args, origin, made["end"])
    sizes = made["sizes"]
    return {
        "database": "postgresql" if args.database_url else "sqlite",
        "conversations": sizes["conversations"],
        "events": sizes["events"],
        "visitors": sizes["visitors"],
        "orders": sizes["orders"],
        "fires": sizes["fires"],
        "ratings": sizes["ratings"],
        "other_stores": args.other_stores,
        "build_s": made["build_s"],
        "reports": reports,
        "slowest_ms": max(r["max_ms"] for r in reports.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90, help="of history, up to the last midnight")
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--visitors", type=int, default=20_000)
    parser.add_argument("--visitor-events", type=int, default=10, help="per visitor")
    parser.add_argument("--orders", type=int, default=3_000)
    parser.add_argument("--rules", type=int, default=5)
    parser.add_argument("--fire-share", type=float, default=0.2, help="of visitors, per rule")
    parser.add_argument("--repeat", type=int, default=3, help="readings of each breakdown")
    parser.add_argument("--timezone", default="Europe/Berlin", help="the store's")
    parser.add_argument(
        "--other-stores", type=int, default=0, help="as big, in the same tables, not measured"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if min(args.days, args.conversations, args.visitors, args.repeat) < 1:
        parser.error("--days, --conversations, --visitors and --repeat must be positive")
    if not 0 <= args.fire_share <= 1:
        parser.error("--fire-share is a fraction, 0 to 1")
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
