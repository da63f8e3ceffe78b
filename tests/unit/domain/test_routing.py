"""The routing policy: who takes a waiting conversation, and in what order they wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portside.domain.routing import (
    Candidate,
    Presence,
    PriorityRule,
    Waiting,
    choose_agent,
    expected_wait_s,
    plan,
    positions,
    priority_of,
    queue_order,
)

T0 = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


def agent(
    id: int,
    *,
    languages: tuple[str, ...] = ("en",),
    load: int = 0,
    max_concurrent: int = 3,
    presence: Presence = Presence.ONLINE,
    teams: tuple[int, ...] = (),
) -> Candidate:
    return Candidate(
        id=id,
        presence=presence,
        languages=frozenset(languages),
        teams=frozenset(teams),
        max_concurrent=max_concurrent,
        load=load,
    )


def waiting(
    cid: int,
    language: str | None = "en",
    *,
    team: int | None = None,
    priority: int = 0,
    after_s: int = 0,
    passed_by: int | None = None,
) -> Waiting:
    return Waiting(cid, language, team, priority, T0 + timedelta(seconds=after_s), passed_by)


def test_a_german_shopper_goes_to_the_agent_who_speaks_german() -> None:
    agents = [agent(1, languages=("en", "zh")), agent(2, languages=("de", "en"), load=2)]
    assert choose_agent(waiting(10, "de-AT"), agents, "en") == agents[1]


def test_nobody_who_speaks_the_language_means_the_queue() -> None:
    assert choose_agent(waiting(10, "ja"), [agent(1), agent(2, languages=("de",))], "en") is None


def test_an_agent_without_languages_speaks_the_stores_default() -> None:
    quiet = agent(1, languages=())
    assert choose_agent(waiting(10, "es"), [quiet], "es") == quiet
    assert choose_agent(waiting(10, "de"), [quiet], "es") is None


def test_the_least_loaded_agent_first_then_the_one_with_most_room() -> None:
    busy, idle = agent(1, load=2), agent(2, load=1)
    assert choose_agent(waiting(10), [busy, idle], "en") == idle
    small, large = agent(3, load=1, max_concurrent=2), agent(4, load=1, max_concurrent=8)
    assert choose_agent(waiting(10), [small, large], "en") == large


def test_away_offline_full_and_other_teams_are_passed_over() -> None:
    agents = [
        agent(1, presence=Presence.AWAY),
        agent(2, presence=Presence.OFFLINE),
        agent(3, load=3, max_concurrent=3),
        agent(4, teams=(7,)),
    ]
    assert choose_agent(waiting(10), agents[:3], "en") is None
    assert choose_agent(waiting(10, team=8), agents, "en") is None
    assert choose_agent(waiting(10, team=7), agents, "en") == agents[3]


def test_a_conversation_is_not_routed_back_to_the_agent_who_handed_it_on() -> None:
    agents = [agent(1), agent(2, load=2)]
    assert choose_agent(waiting(10, passed_by=1), agents, "en") == agents[1]
    assert choose_agent(waiting(10, passed_by=1), agents[:1], "en") is None


def test_the_queue_is_served_by_priority_then_by_time() -> None:
    queue = [waiting(1, after_s=0), waiting(2, after_s=5, priority=10), waiting(3, after_s=2)]
    assert [w.conversation_id for w in queue_order(queue)] == [2, 1, 3]
    assert positions(queue) == {2: 1, 1: 2, 3: 3}


def test_places_are_counted_per_team() -> None:
    queue = [waiting(1, team=5), waiting(2, after_s=1), waiting(3, team=5, after_s=2)]
    assert positions(queue) == {1: 1, 2: 1, 3: 2}


def test_a_plan_counts_each_assignment_against_the_agents_room() -> None:
    agents = [agent(1, max_concurrent=1), agent(2, max_concurrent=2, load=1)]
    queue = [waiting(i, after_s=i) for i in range(1, 5)]
    decided = [(w.conversation_id, a.id) for w, a in plan(queue, agents, "en", T0)]
    # 1 -> agent 1 (load 0); 2 -> agent 2 (the only one with room); 3 and 4 wait.
    assert decided == [(1, 1), (2, 2)]


def test_the_expected_wait_grows_with_the_place_and_is_honest_about_nobody() -> None:
    assert expected_wait_s(1, [30, 40, 50], agents_able=2) == 40
    assert expected_wait_s(5, [30, 40, 50], agents_able=2) == 120
    assert expected_wait_s(3, [], agents_able=1) == 180
    assert expected_wait_s(1, [30], agents_able=0) is None


def test_priority_rules_look_at_the_proven_orders() -> None:
    rules = [
        PriorityRule("order_total_above", 10, amount=Decimal("200")),
        PriorityRule("tag", 30, tag="VIP"),
    ]
    assert priority_of(rules, [{"total": "250.00"}]) == 10
    assert priority_of(rules, [{"total": "99.00", "tags": ["vip"]}]) == 30
    assert priority_of(rules, [{"total": "200"}]) == 0
    assert priority_of(rules, [{"total": "not a number"}]) == 0
    assert priority_of(rules, []) == 0
