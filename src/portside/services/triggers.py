"""Trigger rules: stored, listed with what they did, previewed (docs/engagement.md).

Every agent of the store reads them; its supervisors and admins write them. A rule is
checked whole (domain/trigger_rules.py) and a pool its coupon names must be the
store's. A change is announced on TRIGGERS_TOPIC so that every node's engine reads the
store's rules again at once. The preview replays the store's stored visitor events of
the last PREVIEW_DAYS, visitor by visitor, against a rule (caps and holdout left out).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import format_time
from portside.domain.trigger_rules import (
    Actions,
    Group,
    Rule,
    actions_to_dict,
    group_to_dict,
    parse_rule,
    read_actions,
    read_group,
)
from portside.domain.triggers import VisitorState, apply_event, evaluate, next_due
from portside.errors import Conflict, Forbidden, InvalidRequest, NotFound, field_error
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import conversation_store, coupon_store, store_store, trigger_store

log = logging.getLogger(__name__)

TRIGGERS_TOPIC = "triggers:changed"
WRITERS = ("admin", "supervisor")
MAX_RULES = 200
PREVIEW_DAYS = 7
PREVIEW_EVENTS = 50_000
PREVIEW_MATCHES = 200


@dataclass(frozen=True)
class ActiveRule:
    """An enabled rule as the engine runs it."""

    id: int
    store_id: int
    name: str
    priority: int
    holdout_pct: int
    conditions: Group
    actions: Actions


def rule_from_row(row: Row[Any]) -> ActiveRule:
    return ActiveRule(
        id=int(row.id),
        store_id=int(row.store_id),
        name=row.name,
        priority=int(row.priority),
        holdout_pct=int(row.holdout_pct),
        conditions=read_group(row.conditions),
        actions=read_actions(row.actions),
    )


def trigger_to_dict(row: Row[Any], stats: dict[str, int] | None) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "name": row.name,
        "enabled": bool(row.enabled),
        "priority": int(row.priority),
        "holdout_pct": int(row.holdout_pct),
        "conditions": row.conditions,
        "actions": row.actions,
        "created_at": format_time(row.created_at),
        "updated_at": format_time(row.updated_at),
        "stats": stats or {"fired": 0, "held_out": 0, "contacted": 0},
    }


async def list_triggers(svc: Services, store_id: int) -> list[dict[str, Any]]:
    def query(conn: Connection) -> list[dict[str, Any]]:
        stats = trigger_store.fire_stats(conn, store_id)
        return [
            trigger_to_dict(row, stats.get(int(row.id)))
            for row in trigger_store.list_triggers(conn, store_id)
        ]

    return await svc.db.read(query)


async def get_trigger(svc: Services, store_id: int, trigger_id: int) -> dict[str, Any]:
    def query(conn: Connection) -> dict[str, Any]:
        row = trigger_store.find_trigger(conn, store_id, trigger_id)
        if row is None:
            raise NotFound("This trigger rule does not exist.")
        return trigger_to_dict(row, trigger_store.fire_stats(conn, store_id).get(trigger_id))

    return await svc.db.read(query)


async def list_active_rules(svc: Services, store_id: int) -> tuple[ActiveRule, ...]:
    """The store's enabled rules, highest priority first (a stored rule that no longer
    reads is left out, and logged)."""
    rows = await svc.db.read(
        lambda conn: trigger_store.list_triggers(conn, store_id, enabled_only=True)
    )
    rules = []
    for row in rows:
        try:
            rules.append(rule_from_row(row))
        except InvalidRequest as exc:
            log.warning("trigger rule %s of store %s is unreadable: %s", row.id, store_id, exc)
    return tuple(rules)


def check_trigger(agent: AgentIdentity, body: object) -> Rule:
    """The rule `body` describes, if the agent may write rules."""
    if agent.role not in WRITERS:
        raise Forbidden("Only a store's admins and supervisors can change its trigger rules.")
    return parse_rule(body)


async def do_create_trigger(svc: Services, agent: AgentIdentity, body: object) -> dict[str, Any]:
    rule = check_trigger(agent, body)

    def create(conn: Connection) -> Row[Any]:
        _check_pool(conn, agent.store_id, rule)
        if len(trigger_store.list_triggers(conn, agent.store_id)) >= MAX_RULES:
            raise Conflict(f"A store has at most {MAX_RULES} trigger rules.")
        now = svc.clock.now()
        trigger_id = trigger_store.insert_trigger(
            conn, store_id=agent.store_id, created_at=now, updated_at=now, **_columns(rule)
        )
        row = trigger_store.find_trigger(conn, agent.store_id, trigger_id)
        assert row is not None
        return row

    row = await _writing(svc, agent.store_id, create, rule.name)
    return trigger_to_dict(row, None)


async def do_update_trigger(
    svc: Services, agent: AgentIdentity, trigger_id: int, body: object
) -> dict[str, Any]:
    """Replace the rule whole; its fires (and so who it already reached) are kept."""
    rule = check_trigger(agent, body)

    def change(conn: Connection) -> Row[Any]:
        _check_pool(conn, agent.store_id, rule)
        changed = trigger_store.update_trigger(
            conn, agent.store_id, trigger_id, updated_at=svc.clock.now(), **_columns(rule)
        )
        if not changed:
            raise NotFound("This trigger rule does not exist.")
        row = trigger_store.find_trigger(conn, agent.store_id, trigger_id)
        assert row is not None
        return row

    row = await _writing(svc, agent.store_id, change, rule.name)
    stats = await svc.db.read(lambda conn: trigger_store.fire_stats(conn, agent.store_id))
    return trigger_to_dict(row, stats.get(trigger_id))


async def do_delete_trigger(svc: Services, agent: AgentIdentity, trigger_id: int) -> None:
    if agent.role not in WRITERS:
        raise Forbidden("Only a store's admins and supervisors can change its trigger rules.")
    deleted = await svc.db.write(
        lambda conn: trigger_store.delete_trigger(conn, agent.store_id, trigger_id)
    )
    if not deleted:
        raise NotFound("This trigger rule does not exist.")
    await svc.bus.publish(TRIGGERS_TOPIC, {"store_id": agent.store_id})


def _columns(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "priority": rule.priority,
        "holdout_pct": rule.holdout_pct,
        "conditions": group_to_dict(rule.conditions),
        "actions": actions_to_dict(rule.actions),
    }


def _check_pool(conn: Connection, store_id: int, rule: Rule) -> None:
    pool_id = rule.actions.pool_id
    if pool_id is not None and coupon_store.find_pool(conn, store_id, pool_id) is None:
        raise field_error("actions.coupon.pool_id", f"The store has no coupon pool {pool_id}.")


async def _writing(svc: Services, store_id: int, work: Any, name: str) -> Row[Any]:
    try:
        row: Row[Any] = await svc.db.write(work)
    except IntegrityError:
        raise Conflict(f"The store has a trigger rule named {name!r} already.") from None
    await svc.bus.publish(TRIGGERS_TOPIC, {"store_id": store_id})
    return row


async def preview_trigger(svc: Services, agent: AgentIdentity, body: object) -> dict[str, Any]:
    """Which of the store's recent visitors the rule would have matched, and when."""
    if isinstance(body, dict) and "name" not in body:
        body = {**body, "name": "preview"}  # a rule being drafted may have no name yet
    rule = parse_rule(body)
    now = svc.clock.now()
    since = now - timedelta(days=PREVIEW_DAYS)

    def query(conn: Connection) -> tuple[list[Row[Any]], dict[int, Row[Any]]]:
        events = trigger_store.list_store_events(
            conn, agent.store_id, since=since, limit=PREVIEW_EVENTS
        )
        people = trigger_store.list_visitors(
            conn, agent.store_id, sorted({int(e.visitor_id) for e in events})
        )
        return events, people

    events, people = await svc.db.read(query)
    by_visitor: dict[int, list[Row[Any]]] = defaultdict(list)
    for event in events:
        by_visitor[int(event.visitor_id)].append(event)
    matched = []
    for visitor_id, history in by_visitor.items():
        person = people.get(visitor_id)
        if person is None:
            continue
        state = state_for(visitor_id, person)
        at = replay_until_match(state, rule.conditions, history, now)
        if at is not None:
            matched.append(
                {
                    "visitor_id": visitor_id,
                    "at": format_time(at),
                    "country": person.country,
                    "language": person.language,
                    "url": state.url,
                }
            )
    matched.sort(key=lambda m: m["at"], reverse=True)
    return {"matched": matched[:PREVIEW_MATCHES], "checked": len(by_visitor), "days": PREVIEW_DAYS}


def state_for(visitor_id: int, person: Row[Any]) -> VisitorState:
    return VisitorState(
        visitor_id, language=person.language, country=person.country, created_at=person.created_at
    )


def replay_until_match(
    state: VisitorState, group: Group, history: list[Row[Any]], now: datetime
) -> datetime | None:
    """The first moment the rule held during `history` (checked at each event, and at
    the moments time alone made a timed condition true before the next one)."""
    for index, event in enumerate(history):
        apply_event(state, event_dict(event), event.session_id)
        at: datetime = event.at
        if evaluate(group, state, at):
            return at
        until = history[index + 1].at if index + 1 < len(history) else now
        due = next_due(group, state, at)
        while due is not None and due <= until:
            if evaluate(group, state, due):
                return due
            due = next_due(group, state, due)
    return None


def event_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "type": row.type,
        "url": row.url,
        "data": row.data,
        "at": row.at,
        "session_id": row.session_id,
    }


__all__ = [
    "TRIGGERS_TOPIC",
    "ActiveRule",
    "VisitorHistory",
    "do_create_trigger",
    "do_delete_trigger",
    "do_update_trigger",
    "find_visitor_history",
    "get_trigger",
    "list_active_rules",
    "list_triggers",
    "preview_trigger",
]


@dataclass
class VisitorHistory:
    """A visitor as the engine first sees them: their state rebuilt from their stored
    events, the rules already fired for them, and whether a person has them."""

    state: VisitorState
    fired: set[int]
    with_person: bool


HISTORY_DAYS = 7
HISTORY_EVENTS = 1000


async def find_visitor_history(
    svc: Services, store_id: int, visitor_id: int
) -> VisitorHistory | None:
    """None if the store has no such visitor."""
    since = svc.clock.now() - timedelta(days=HISTORY_DAYS)

    def query(conn: Connection) -> tuple[Any, list[Row[Any]], list[Row[Any]], Any] | None:
        person = store_store.find_visitor(conn, store_id, visitor_id)
        if person is None:
            return None
        events = trigger_store.list_recent_visitor_events(
            conn, store_id, visitor_id, since=since, limit=HISTORY_EVENTS
        )
        fires = trigger_store.list_visitor_fires(conn, store_id, visitor_id)
        latest = conversation_store.find_latest_conversation_for_visitor(conn, store_id, visitor_id)
        return person, events, fires, latest

    # A few rows, read while the shopper's event waits to be judged.
    found = await svc.db.read(query, urgent=True)
    if found is None:
        return None
    person, events, fires, latest = found
    state = state_for(visitor_id, person)
    for event in events:
        apply_event(state, event_dict(event), event.session_id)
    return VisitorHistory(
        state,
        {int(f.trigger_id) for f in fires},
        latest is not None and latest.status in ("queued", "assigned"),
    )
