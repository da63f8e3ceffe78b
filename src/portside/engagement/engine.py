"""The trigger engine: judges shoppers' behaviour against the stores' rules as it arrives.

It listens to `visitor:activity` (services/tracking.py publishes each stored batch of a
visitor's events there) and keeps, per visitor seen lately, their state (rebuilt from
their stored events the first time, so a checkout started before a page load or a node
restart still counts), the rules already fired for them, and, from the store's topic,
whether they are typing and whether a person has their conversation. Each batch moves
the state on; the store's enabled rules (kept for RULES_FOR_S, read again at once when
one changes) are then tried highest priority first, and the first that holds fires
through services/proactive.py, which checks the caps again in its transaction. A rule
that could become true by time alone (time on page, checkout abandoned) gets a timer
for that moment. Work for one visitor runs in order; different visitors side by side.

Every node runs an engine. Two nodes judging the same visitor fire a rule once: the
fire's row is unique per rule and visitor, and the visitor's row is locked while it is
written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portside.domain.ports import Subscription
from portside.domain.trigger_rules import Condition, Group
from portside.domain.triggers import TYPING_FOR, VisitorState, apply_event, evaluate, next_due
from portside.services.context import Services, store_topic
from portside.services.opening import find_next_opening_cached
from portside.services.proactive import do_close_fire, do_fire
from portside.services.tracking import ACTIVITY_TOPIC
from portside.services.triggers import (
    TRIGGERS_TOPIC,
    ActiveRule,
    find_visitor_history,
    list_active_rules,
)

log = logging.getLogger(__name__)

# A store's rules are read again after this long (at once on this node's changes, and
# on every node's through TRIGGERS_TOPIC).
RULES_FOR_S = 30.0
# A visitor not heard from for this long is forgotten (rebuilt if they come back).
FORGET_AFTER_S = 2 * 3600.0
MAX_VISITORS = 200_000
SWEEP_EVERY_S = 60.0
WITH_PERSON = ("queued", "assigned")


@dataclass
class _Visitor:
    store_id: int
    state: VisitorState
    fired: set[int]
    with_person: bool
    heard: float
    typing_until: float = 0.0
    blocked_until: float = 0.0
    timer: asyncio.TimerHandle | None = None


class TriggerEngine:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._visitors: OrderedDict[int, _Visitor] = OrderedDict()
        self._rules: dict[int, tuple[float, tuple[ActiveRule, ...]]] = {}
        self._loading: dict[int, asyncio.Future[tuple[ActiveRule, ...]]] = {}
        self._changes: dict[int, int] = {}
        self._stores: dict[int, Subscription] = {}
        self._subscriptions: list[Subscription] = []
        self._latest: dict[int, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._subscriptions = [
            self.svc.bus.subscribe(ACTIVITY_TOPIC, self._on_activity),
            self.svc.bus.subscribe(TRIGGERS_TOPIC, self._on_rules_changed),
        ]
        # Rule changes published elsewhere while the nodes' link was down were missed.
        self.svc.bus.on_resume(self._forget_rules)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def close(self) -> None:
        for subscription in (*self._subscriptions, *self._stores.values()):
            subscription.close()
        self._stores.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for visitor in self._visitors.values():
            if visitor.timer is not None:
                visitor.timer.cancel()
        pending = list(self._latest.values())
        if pending:
            await asyncio.wait(pending, timeout=5)

    # ---- what the bus brings

    def _on_activity(self, _topic: str, message: dict[str, Any]) -> None:
        if message.get("kind") != "activity":
            return
        visitor_id = int(message["visitor_id"])
        self._chain(visitor_id, lambda: self._activity(message))

    def _on_rules_changed(self, _topic: str, message: dict[str, Any]) -> None:
        self._forget_store_rules(int(message["store_id"]))

    def _forget_rules(self) -> None:
        for store_id in {*self._rules, *self._loading}:
            self._forget_store_rules(store_id)

    def _forget_store_rules(self, store_id: int) -> None:
        # A read under way may have started before the change: it is not kept.
        self._changes[store_id] = self._changes.get(store_id, 0) + 1
        self._rules.pop(store_id, None)
        self._loading.pop(store_id, None)

    def _on_store(self, _topic: str, message: dict[str, Any]) -> None:
        """Typing and conversation changes of a store's shoppers we judge."""
        visitor = self._visitors.get(message.get("visitor_id", -1))
        if visitor is None:
            return
        kind = message.get("kind")
        if kind == "typing" and message["actor"]["type"] == "visitor":
            now = self.svc.clock.monotonic()
            visitor.typing_until = now + TYPING_FOR.total_seconds() if message["state"] else 0.0
        elif kind == "event":
            visitor.with_person = message["status"] in WITH_PERSON

    # ---- work per visitor, in order

    def _chain(self, visitor_id: int, work: Callable[[], Awaitable[None]]) -> None:
        before = self._latest.get(visitor_id)
        task = asyncio.get_running_loop().create_task(self._after(before, work))
        self._latest[visitor_id] = task
        task.add_done_callback(lambda t: self._forget(visitor_id, t))

    def _forget(self, visitor_id: int, task: asyncio.Task[None]) -> None:
        if self._latest.get(visitor_id) is task:
            del self._latest[visitor_id]

    async def _after(
        self, before: asyncio.Task[None] | None, work: Callable[[], Awaitable[None]]
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            await work()
        except Exception:
            log.exception("the trigger engine failed")

    async def _activity(self, message: dict[str, Any]) -> None:
        store_id, visitor_id = int(message["store_id"]), int(message["visitor_id"])
        visitor = await self._visitor(store_id, visitor_id)
        if visitor is None:
            return
        visitor.heard = self.svc.clock.monotonic()
        self._visitors.move_to_end(visitor_id)
        state = visitor.state
        about = message.get("visitor") or {}
        state.language = about.get("language") or state.language
        state.country = about.get("country") or state.country
        for event in message.get("events") or []:
            if int(event["id"]) <= state.last_event_id:
                continue  # read with the history already
            at = _parse_time(event.get("at")) or self.svc.clock.now()
            apply_event(state, {**event, "at": at}, message.get("session_id"))
            if event["type"] == "proactive_closed":
                fire_id = (event.get("data") or {}).get("fire_id")
                if isinstance(fire_id, int) and not isinstance(fire_id, bool):
                    await do_close_fire(
                        self.svc, store_id=store_id, visitor_id=visitor_id, fire_id=fire_id
                    )
        await self._judge(visitor_id, visitor)

    async def _visitor(self, store_id: int, visitor_id: int) -> _Visitor | None:
        visitor = self._visitors.get(visitor_id)
        if visitor is not None and visitor.store_id == store_id:
            return visitor
        history = await find_visitor_history(self.svc, store_id, visitor_id)
        if history is None:
            return None
        if store_id not in self._stores:
            self._stores[store_id] = self.svc.bus.subscribe(store_topic(store_id), self._on_store)
        visitor = _Visitor(
            store_id,
            history.state,
            history.fired,
            history.with_person,
            heard=self.svc.clock.monotonic(),
        )
        self._visitors[visitor_id] = visitor
        while len(self._visitors) > MAX_VISITORS:
            self._drop(next(iter(self._visitors)))
        return visitor

    async def _judge(self, visitor_id: int, visitor: _Visitor) -> None:
        """Try the store's rules on the visitor; fire the first that holds."""
        if visitor.timer is not None:
            visitor.timer.cancel()
            visitor.timer = None
        rules = await self._store_rules(visitor.store_id)
        mono, now = self.svc.clock.monotonic(), self.svc.clock.now()
        if mono < visitor.blocked_until:
            self._wake_in(visitor_id, visitor, visitor.blocked_until - mono)
            return
        open_now: bool | None = None
        if any(_uses(rule.conditions, "business_hours") for rule in rules):
            opening = await find_next_opening_cached(self.svc, visitor.store_id, None)
            open_now = opening is None
        soonest: float | None = None
        for rule in rules:
            if rule.id in visitor.fired:
                continue
            if not evaluate(rule.conditions, visitor.state, now, open_now=open_now):
                due = next_due(rule.conditions, visitor.state, now)
                if due is not None:
                    wait = (due - now).total_seconds()
                    soonest = wait if soonest is None else min(soonest, wait)
                continue
            # Known here without asking the database (which checks again when it writes).
            typing = mono < visitor.typing_until
            if typing or visitor.with_person:
                self._wake_in(visitor_id, visitor, 5.0 if typing else 30.0)
                return
            fired = await do_fire(
                self.svc,
                store_id=visitor.store_id,
                visitor_id=visitor_id,
                rule=rule,
                context=visitor.state.describe(now),
                typing=self.svc.clock.monotonic() < visitor.typing_until,
            )
            if fired.fire_id is not None or fired.refused == "fired":
                visitor.fired.add(rule.id)
            if fired.retry_after_s is not None:
                visitor.blocked_until = self.svc.clock.monotonic() + fired.retry_after_s
                self._wake_in(visitor_id, visitor, fired.retry_after_s)
                return
            if fired.fire_id is not None and not fired.held_out:
                # One message at a time: the next rule waits for the next event.
                return
        if soonest is not None:
            self._wake_in(visitor_id, visitor, soonest)

    def _wake_in(self, visitor_id: int, visitor: _Visitor, seconds: float) -> None:
        if visitor.timer is not None:
            visitor.timer.cancel()
        visitor.timer = asyncio.get_running_loop().call_later(
            max(0.0, seconds), self._wake, visitor_id
        )

    def _wake(self, visitor_id: int) -> None:
        visitor = self._visitors.get(visitor_id)
        if visitor is None:
            return
        visitor.timer = None
        self._chain(visitor_id, lambda: self._judge(visitor_id, visitor))

    async def _store_rules(self, store_id: int) -> tuple[ActiveRule, ...]:
        """The store's rules: read once however many visitors ask at the same moment
        (measured: a thousand reads queued behind each other held events back for
        seconds), and once kept, read again in the background when they are old."""
        kept = self._rules.get(store_id)
        if kept is not None:
            if kept[0] <= self.svc.clock.monotonic():
                self._reading(store_id)
            return kept[1]
        return await self._reading(store_id)

    def _reading(self, store_id: int) -> asyncio.Future[tuple[ActiveRule, ...]]:
        reading = self._loading.get(store_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read_rules(store_id))
            self._loading[store_id] = reading
            reading.add_done_callback(lambda done: self._read(store_id, done))
        return reading

    def _read(self, store_id: int, done: asyncio.Future[tuple[ActiveRule, ...]]) -> None:
        if self._loading.get(store_id) is done:
            del self._loading[store_id]

    async def _read_rules(self, store_id: int) -> tuple[ActiveRule, ...]:
        changes = self._changes.get(store_id, 0)
        rules = await list_active_rules(self.svc, store_id)
        if self._changes.get(store_id, 0) == changes:
            self._rules[store_id] = (self.svc.clock.monotonic() + RULES_FOR_S, rules)
        return rules

    # ---- forgetting

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            limit = self.svc.clock.monotonic() - FORGET_AFTER_S
            for visitor_id in [v for v, s in self._visitors.items() if s.heard < limit]:
                if visitor_id not in self._latest:
                    self._drop(visitor_id)
            live = {v.store_id for v in self._visitors.values()}
            for store_id in [s for s in self._stores if s not in live]:
                self._stores.pop(store_id).close()

    def _drop(self, visitor_id: int) -> None:
        visitor = self._visitors.pop(visitor_id)
        if visitor.timer is not None:
            visitor.timer.cancel()


def _uses(group: Group, kind: str) -> bool:
    return any(
        _uses(c, kind) if isinstance(c, Group) else isinstance(c, Condition) and c.type == kind
        for c in group.conditions
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
