"""A store's history written straight into its tables: visitors, conversations with
their events, ratings, visitor events, trigger rules and fires, orders and what they
are credited to. For the analytics tests, which need weeks of the past in a moment.

The rows look as the services write them (status changes with `from`/`to`, the
conversation's SLA columns, one seq after another), without going through them.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

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

_numbers = itertools.count(1)


def add_visitor(
    conn: Connection, store_id: int, at: datetime, *, language: str = "en-US", country: str = "US"
) -> int:
    result = conn.execute(
        insert(visitors)
        .values(
            store_id=store_id,
            created_at=at,
            last_seen_at=at,
            language=language,
            country=country,
        )
        .returning(visitors.c.id)
    )
    return int(result.scalar_one())


def add_visitor_event(
    conn: Connection, store_id: int, visitor_id: int, type: str, at: datetime, **data: Any
) -> None:
    conn.execute(
        insert(visitor_events).values(
            store_id=store_id,
            visitor_id=visitor_id,
            session_id="s-1",
            type=type,
            client_id=secrets.token_hex(8),
            url="https://shop.example/",
            data=data,
            at=at,
        )
    )


@dataclass
class Chat:
    """A conversation told step by step: `say("visitor", at)`, `say("bot", at)`,
    `say("agent", at, agent_id)`, `handoff(at)`, `assign(at, agent_id)`, `resolve(at)`;
    `save()` writes the conversation and its events."""

    conn: Connection
    store_id: int
    visitor_id: int
    started_at: datetime
    language: str | None = None
    status: str = "bot"
    assignee_id: int | None = None
    handoff_at: datetime | None = None
    first_reply_at: datetime | None = None
    resolved_at: datetime | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def say(self, actor: str, at: datetime, actor_id: int | None = None) -> Chat:
        if actor == "agent" and self.first_reply_at is None:
            self.first_reply_at = at
        self._event("message.created", actor, at, {"text": f"{actor} says hi"}, actor_id)
        return self

    def handoff(self, at: datetime) -> Chat:
        self.handoff_at = self.handoff_at or at
        return self._status("queued", at, None, "system")

    def assign(self, at: datetime, agent_id: int) -> Chat:
        return self._status("assigned", at, agent_id, "system")

    def resolve(self, at: datetime, by: int | None = None) -> Chat:
        self.resolved_at = at
        return self._status("resolved", at, self.assignee_id, "agent", by)

    def _status(
        self, to: str, at: datetime, assignee: int | None, actor: str, by: int | None = None
    ) -> Chat:
        data = {"from": self.status, "to": to, "assignee": assignee and {"id": assignee}}
        self.status, self.assignee_id = to, assignee
        return self._event("conversation.status_changed", actor, at, data, by)

    def _event(
        self, kind: str, actor: str, at: datetime, data: dict[str, Any], actor_id: int | None
    ) -> Chat:
        self.steps.append(
            {"type": kind, "actor_type": actor, "actor_id": actor_id, "data": data, "at": at}
        )
        return self

    def save(self) -> int:
        last = max((step["at"] for step in self.steps), default=self.started_at)
        result = self.conn.execute(
            insert(conversations)
            .values(
                store_id=self.store_id,
                visitor_id=self.visitor_id,
                status=self.status,
                assignee_id=self.assignee_id,
                last_seq=len(self.steps),
                created_at=self.started_at,
                updated_at=last,
                language=self.language,
                handoff_at=self.handoff_at,
                first_reply_at=self.first_reply_at,
                resolved_at=self.resolved_at,
            )
            .returning(conversations.c.id)
        )
        conversation_id = int(result.scalar_one())
        for seq, step in enumerate(self.steps, start=1):
            self.conn.execute(
                insert(events).values(
                    store_id=self.store_id,
                    conversation_id=conversation_id,
                    seq=seq,
                    type=step["type"],
                    actor_type=step["actor_type"],
                    actor_id=step["actor_id"],
                    data=step["data"],
                    created_at=step["at"],
                )
            )
        return conversation_id


def add_rating(
    conn: Connection,
    store_id: int,
    conversation_id: int,
    at: datetime,
    score: int | None,
    *,
    agent_id: int | None = None,
) -> None:
    conn.execute(
        insert(ratings).values(
            store_id=store_id,
            conversation_id=conversation_id,
            resolved_seq=next(_numbers),
            resolved_by="bot" if agent_id is None else "agent",
            agent_id=agent_id,
            score=score,
            created_at=at,
            rated_at=None if score is None else at + timedelta(minutes=1),
        )
    )


def add_trigger(conn: Connection, store_id: int, name: str, holdout_pct: int = 10) -> int:
    result = conn.execute(
        insert(triggers)
        .values(
            store_id=store_id,
            name=name,
            enabled=True,
            priority=0,
            conditions={"match": "all", "conditions": []},
            actions={"message": None, "coupon": None, "open_widget": False, "notify_agents": False},
            holdout_pct=holdout_pct,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        .returning(triggers.c.id)
    )
    return int(result.scalar_one())


def add_fire(
    conn: Connection,
    store_id: int,
    trigger_id: int,
    visitor_id: int,
    at: datetime,
    *,
    held_out: bool = False,
) -> int:
    result = conn.execute(
        insert(trigger_fires)
        .values(
            store_id=store_id,
            trigger_id=trigger_id,
            visitor_id=visitor_id,
            held_out=held_out,
            at=at,
            context={},
        )
        .returning(trigger_fires.c.id)
    )
    return int(result.scalar_one())


def add_order(
    conn: Connection,
    store_id: int,
    visitor_id: int | None,
    at: datetime,
    cents: int,
    currency: str = "EUR",
    *,
    status: str = "paid",
    credits: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> int:
    """An order, and what it is credited to: `(kind, ids)` as ("trigger",
    {"trigger_id": 3, "fire_id": 9})."""
    number = f"T{next(_numbers)}"
    result = conn.execute(
        insert(orders)
        .values(
            store_id=store_id,
            number=number,
            data={"number": number},
            source="api",
            visitor_id=visitor_id,
            status=status,
            total_cents=cents,
            currency=currency,
            placed_at=at,
            cancelled_at=at if status == "cancelled" else None,
            updated_at=at,
        )
        .returning(orders.c.id)
    )
    order_id = int(result.scalar_one())
    for kind, ids in credits:
        ref = f"{kind}:{next(iter(ids.values()), next(_numbers))}"
        conn.execute(
            insert(order_attributions).values(
                store_id=store_id, order_id=order_id, kind=kind, ref=ref, created_at=at, **ids
            )
        )
    return order_id


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def write_sample_history(
    conn: Connection, sid: int, agents: tuple[int, int], day1: datetime
) -> dict[str, int]:
    """Five conversations, seven visitors, two rules, four orders over `day1` and the
    day after, with the numbers tests/integration/test_analytics.py reads back: two
    agents (Mei, Lena) answer; one conversation is only a proactive message."""
    mei, lena = agents
    day2 = day1 + timedelta(days=1)
    v = {n: add_visitor(conn, sid, day1 - s(600), language=lang, country=country)
         for n, lang, country in [
             (1, "es-ES", "ES"), (2, "de-DE", "DE"), (3, "es-MX", "MX"), (4, "en-US", "US"),
             (5, "fr-FR", "FR"), (6, "en-GB", "GB"), (7, "en-GB", "GB"),
         ]}  # fmt: skip
    # 1: the bot alone, resolved; rated 5.
    c1 = Chat(conn, sid, v[1], day1).say("visitor", day1).say("bot", day1 + s(2))
    c1 = c1.resolve(day1 + s(300), by=mei)
    c1_id = c1.save()
    add_rating(conn, sid, c1_id, day1 + s(300), 5)
    # 2: handed off after 30 s, Lena answers 60 s later, resolved; rated 4.
    c2 = Chat(conn, sid, v[2], day1).say("visitor", day1).say("bot", day1 + s(4))
    c2.handoff(day1 + s(30)).assign(day1 + s(31), lena).say("agent", day1 + s(90), lena)
    c2_id = c2.resolve(day1 + s(200), by=lena).save()
    add_rating(conn, sid, c2_id, day1 + s(200), 4, agent_id=lena)
    add_rating(conn, sid, c2_id, day1 + s(250), None, agent_id=lena)  # never answered
    # 3: a proactive message the day before, the shopper answers on day 2.
    c3 = Chat(conn, sid, v[3], day1, language="es").say("bot", day2 - s(60))
    c3_id = c3.say("visitor", day2).say("bot", day2 + s(6)).save()
    # 4: a proactive message nobody answered: not a conversation of the report.
    Chat(conn, sid, v[4], day1).say("bot", day1).save()
    # 5: handed off twice; Mei answers the first handoff after 30 s.
    c5 = Chat(conn, sid, v[5], day1).say("visitor", day1).handoff(day1 + s(10))
    c5.assign(day1 + s(11), mei).say("agent", day1 + s(40), mei).handoff(day1 + s(100))
    c5.assign(day1 + s(101), lena).say("agent", day1 + s(120), lena).save()

    add_visitor_event(conn, sid, v[1], "page_view", day1 - s(60))
    add_visitor_event(conn, sid, v[6], "page_view", day1 - s(120))
    add_visitor_event(conn, sid, v[6], "checkout_started", day1, cart_value="25.50")
    add_visitor_event(conn, sid, v[7], "page_view", day1)

    dress = add_trigger(conn, sid, "Linger on the dress")
    welcome = add_trigger(conn, sid, "Welcome", holdout_pct=0)
    fire6 = add_fire(conn, sid, dress, v[6], day1 + s(900))
    add_fire(conn, sid, dress, v[7], day1 + s(900), held_out=True)
    add_fire(conn, sid, welcome, v[1], day1 - s(600))

    add_order(conn, sid, v[1], day1 + s(600), 10_000,
              credits=(("conversation", {"conversation_id": c1_id}),))  # fmt: skip
    add_order(conn, sid, v[6], day2, 2_550, credits=(
        ("trigger", {"trigger_id": dress, "fire_id": fire6}), ("coupon", {}),
    ))  # fmt: skip
    add_order(conn, sid, v[2], day1 + s(900), 99_900, status="cancelled",
              credits=(("conversation", {"conversation_id": c2_id}),))  # fmt: skip
    add_order(conn, sid, v[3], day2 + s(60), 500_000, "JPY",
              credits=(("conversation", {"conversation_id": c3_id}),))  # fmt: skip
    return {"mei": mei, "lena": lena, "dress": dress, "welcome": welcome}
