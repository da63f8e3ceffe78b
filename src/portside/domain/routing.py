"""Who takes a conversation that waits for a person, and in what order they wait.

Pure rules over plain data: the service reads the agents and the queue in its write
transaction, asks these functions, and writes what they decide.

- A conversation goes to an agent who is online (not away), has room under their
  maximum, is in the conversation's team (when it has one), and speaks the shopper's
  language; of those, the least loaded, then the one with the most room left, then the
  one who has waited longest for a conversation. With none, it waits in the queue.
- The queue is served by priority (higher first), then by the time it was queued.
- A store's priority rules raise a conversation's priority by what its orders show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from portside.domain.translation import base_language


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Candidate:
    """An agent as routing sees them at one moment."""

    id: int
    presence: Presence
    languages: frozenset[str]
    teams: frozenset[int]
    max_concurrent: int
    load: int
    # When they were last given a conversation (None: not since the node started).
    last_assigned: datetime | None = None

    @property
    def room(self) -> int:
        return self.max_concurrent - self.load


@dataclass(frozen=True)
class Waiting:
    """A conversation in the queue."""

    conversation_id: int
    language: str | None
    team_id: int | None
    priority: int
    queued_at: datetime
    # The agent who handed it on: not given it back by routing (they may take it).
    passed_by: int | None = None


def speaks(candidate: Candidate, language: str | None, default_language: str) -> bool:
    """An agent who listed no languages speaks the store's default language. Languages,
    not variants: "pt-BR" is "pt"."""
    wanted = base_language(language)
    if wanted is None:
        return True
    spoken = candidate.languages or frozenset({base_language(default_language) or ""})
    return wanted in {base_language(code) for code in spoken}


def can_take(candidate: Candidate, waiting: Waiting, default_language: str) -> bool:
    return (
        candidate.presence is Presence.ONLINE
        and candidate.room > 0
        and candidate.id != waiting.passed_by
        and (waiting.team_id is None or waiting.team_id in candidate.teams)
        and speaks(candidate, waiting.language, default_language)
    )


def choose_agent(
    waiting: Waiting, candidates: Iterable[Candidate], default_language: str
) -> Candidate | None:
    able = [c for c in candidates if can_take(c, waiting, default_language)]
    if not able:
        return None
    return min(able, key=_fairness)


def _fairness(candidate: Candidate) -> tuple[int, int, float, int]:
    waited = candidate.last_assigned.timestamp() if candidate.last_assigned else 0.0
    return (candidate.load, -candidate.room, waited, candidate.id)


def queue_order(queue: Iterable[Waiting]) -> list[Waiting]:
    return sorted(queue, key=lambda w: (-w.priority, w.queued_at, w.conversation_id))


def plan(
    queue: Iterable[Waiting], candidates: Sequence[Candidate], default_language: str, now: datetime
) -> list[tuple[Waiting, Candidate]]:
    """Who takes what of the queue now, in queue order, counting each assignment
    against the agent's room before the next is decided."""
    agents = {c.id: c for c in candidates}
    decided: list[tuple[Waiting, Candidate]] = []
    for waiting in queue_order(queue):
        chosen = choose_agent(waiting, agents.values(), default_language)
        if chosen is None:
            continue
        decided.append((waiting, chosen))
        agents[chosen.id] = replace(chosen, load=chosen.load + 1, last_assigned=now)
    return decided


def positions(queue: Iterable[Waiting]) -> dict[int, int]:
    """Each waiting conversation's place (1 = next) among those of its team."""
    places: dict[int, int] = {}
    seen: dict[int | None, int] = {}
    for waiting in queue_order(queue):
        seen[waiting.team_id] = seen.get(waiting.team_id, 0) + 1
        places[waiting.conversation_id] = seen[waiting.team_id]
    return places


def expected_wait_s(position: int, recent_waits_s: Sequence[float], agents_able: int) -> int | None:
    """An honest guess of the wait: the median of recent waits, scaled by the place in
    the queue over the agents who could take it. None when nobody can (the shopper is
    then told that no one is available, not given a made-up number)."""
    if agents_able <= 0:
        return None
    if not recent_waits_s:
        # No history yet: a minute per round of the queue.
        return 60 * -(-position // agents_able)
    ordered = sorted(recent_waits_s)
    median = ordered[len(ordered) // 2]
    rounds = -(-position // agents_able)
    return max(5, round(median * rounds))


@dataclass(frozen=True)
class PriorityRule:
    """`when` "order_total_above" (with `amount`) or "tag" (with `tag`)."""

    when: str
    priority: int
    amount: Decimal | None = None
    tag: str | None = None


def priority_of(rules: Iterable[PriorityRule], orders: Iterable[dict[str, Any]]) -> int:
    """The highest priority any rule gives for the shopper's proven orders (0: none)."""
    orders = list(orders)
    best = 0
    for rule in rules:
        if any(_matches(rule, order) for order in orders):
            best = max(best, rule.priority)
    return best


def _matches(rule: PriorityRule, order: dict[str, Any]) -> bool:
    if rule.when == "order_total_above" and rule.amount is not None:
        try:
            return Decimal(str(order.get("total", ""))) > rule.amount
        except InvalidOperation:
            return False
    if rule.when == "tag" and rule.tag:
        tags = order.get("tags") or []
        return rule.tag.lower() in {str(t).lower() for t in tags}
    return False
