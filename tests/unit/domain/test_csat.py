"""CSAT: whose a resolution's rating is, and what a shopper may answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portside.domain.csat import (
    Attribution,
    ResolvedBy,
    attribute,
    check_comment,
    check_score,
)
from portside.errors import InvalidRequest

HANDED_OFF = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_a_conversation_no_person_ever_had_is_the_bots() -> None:
    who = attribute(handoff_at=None, ever_assigned=False, assignee_id=None, resolver_id=7)
    assert who == Attribution(ResolvedBy.BOT, None)


def test_the_agent_who_has_it_at_the_resolution_gets_the_rating() -> None:
    who = attribute(handoff_at=HANDED_OFF, ever_assigned=True, assignee_id=3, resolver_id=7)
    assert who == Attribution(ResolvedBy.AGENT, 3)


@pytest.mark.parametrize(
    ("handoff_at", "ever_assigned"),
    [(HANDED_OFF, False), (None, True), (HANDED_OFF, True)],
)
def test_with_nobody_assigned_the_resolver_gets_the_rating_of_a_handed_off_conversation(
    handoff_at: datetime | None, ever_assigned: bool
) -> None:
    who = attribute(
        handoff_at=handoff_at, ever_assigned=ever_assigned, assignee_id=None, resolver_id=7
    )
    assert who == Attribution(ResolvedBy.AGENT, 7)


def test_an_assignee_counts_even_without_a_handoff() -> None:
    who = attribute(handoff_at=None, ever_assigned=False, assignee_id=4, resolver_id=7)
    assert who == Attribution(ResolvedBy.AGENT, 4)


@pytest.mark.parametrize("score", [1, 3, 5])
def test_scores_from_one_to_five_are_taken(score: int) -> None:
    assert check_score(score) == score


@pytest.mark.parametrize("score", [0, 6, -1, 4.5, "5", True, None])
def test_other_scores_are_refused_naming_the_field(score: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_score(score)
    assert caught.value.details == [{"field": "score", "problem": caught.value.message}]
    assert "from 1 to 5" in caught.value.message


def test_a_comment_is_trimmed_and_blank_is_none() -> None:
    assert check_comment("  Very kind, thanks!  ") == "Very kind, thanks!"
    assert check_comment("   ") is None
    assert check_comment(None) is None
    assert check_comment("x" * 1000) == "x" * 1000


@pytest.mark.parametrize("comment", ["x" * 1001, 42, ["a"]])
def test_long_or_odd_comments_are_refused(comment: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_comment(comment)
    assert caught.value.details == [{"field": "comment", "problem": caught.value.message}]
