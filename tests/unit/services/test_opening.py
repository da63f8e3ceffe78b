"""A node's short-lived copy of stores' teams, and which email addresses are kept."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portside.clock import ManualClock
from portside.domain.hours import TeamHours
from portside.services.off_hours import clean_email
from portside.services.opening import CACHE_S, OpeningHoursCache, team_hours


def test_a_stores_teams_are_kept_for_a_short_time_and_forgotten_on_change() -> None:
    clock = ManualClock()
    cache = OpeningHoursCache(clock)
    teams = (TeamHours(1, None),)
    assert cache.get(7) is None
    cache.put(7, teams)
    assert cache.get(7) == teams
    clock.advance(CACHE_S - 1)
    assert cache.get(7) == teams
    clock.advance(1)
    assert cache.get(7) is None  # read again after CACHE_S
    cache.put(7, teams)
    cache.forget(7)
    assert cache.get(7) is None


def test_a_team_row_that_no_longer_reads_counts_as_always_open() -> None:
    row = SimpleNamespace(id=3, timezone="Gone/Zone", hours={"mon": [["09:00", "18:00"]]})
    assert team_hours(SimpleNamespace(**vars(row), holidays=[])) == TeamHours(3, None)
    good = SimpleNamespace(
        id=4, timezone="Europe/Madrid", hours={"mon": [["09:00", "18:00"]]}, holidays=None
    )
    found = team_hours(good).schedule
    assert found is not None and found.timezone == "Europe/Madrid"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("ana.garcia@example.com", "ana.garcia@example.com"),
        ("  Bob+Shop@Mail.Example.ORG ", "Bob+Shop@mail.example.org"),
        ("用户@例子.中国", "用户@例子.中国"),
        ("ana@example", None),
        ("ana@@example.com", None),
        ("ana@example..com", None),
        (".ana@example.com", None),
        ("ana @example.com", None),
        ("ana@-example.com", None),
        ("a" * 65 + "@example.com", None),
        ("ana@example.c0m", None),
        (None, None),
    ],
)
def test_only_a_well_formed_address_is_kept(given: object, kept: str | None) -> None:
    assert clean_email(given) == kept
