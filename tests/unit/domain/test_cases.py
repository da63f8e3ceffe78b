"""The rules of cases: who may become what, and what a decision writes."""

from __future__ import annotations

import pytest

from portside.domain.cases import (
    DECISIONS,
    CaseStatus,
    check_case_status,
    check_case_transition,
    clean_case_note,
    decision_text,
)
from portside.errors import Conflict, InvalidRequest


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CaseStatus.OPEN, CaseStatus.APPROVED),
        (CaseStatus.OPEN, CaseStatus.REJECTED),
        (CaseStatus.OPEN, CaseStatus.CLOSED),
        (CaseStatus.APPROVED, CaseStatus.CLOSED),
        (CaseStatus.REJECTED, CaseStatus.CLOSED),
    ],
)
def test_decisions_an_agent_may_take(current: CaseStatus, target: CaseStatus) -> None:
    check_case_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (CaseStatus.APPROVED, CaseStatus.APPROVED, "This case is already approved."),
        (
            CaseStatus.REJECTED,
            CaseStatus.APPROVED,
            "A case that is rejected cannot become approved.",
        ),
        (CaseStatus.CLOSED, CaseStatus.REJECTED, "A case that is closed cannot become rejected."),
        (CaseStatus.APPROVED, CaseStatus.OPEN, "A case that is approved cannot become open."),
    ],
)
def test_refused_moves_are_conflicts_that_say_why(
    current: CaseStatus, target: CaseStatus, message: str
) -> None:
    with pytest.raises(Conflict) as refused:
        check_case_transition(current, target)
    assert refused.value.message == message


def test_only_decisions_can_be_asked_for_but_any_status_can_be_listed() -> None:
    assert check_case_status("closed", choices=DECISIONS) is CaseStatus.CLOSED
    assert check_case_status("open") is CaseStatus.OPEN
    for wrong in ("open", "Approved", None, 1):
        with pytest.raises(InvalidRequest) as refused:
            check_case_status(wrong, choices=DECISIONS)
        assert refused.value.details == [{"field": "status", "problem": refused.value.message}]


def test_a_note_is_trimmed_optional_and_bounded() -> None:
    assert clean_case_note(None) is None
    assert clean_case_note("   ") is None
    assert clean_case_note("  send the L ") == "send the L"
    with pytest.raises(InvalidRequest, match="at most 1000 characters; this one has 1001"):
        clean_case_note("x" * 1001)
    with pytest.raises(InvalidRequest, match="note must be text"):
        clean_case_note(["no"])


def test_the_transcript_note_names_the_case_and_the_decision() -> None:
    assert decision_text("exchange", 7, CaseStatus.APPROVED, "send the L") == (
        "Exchange #7 approved: send the L"
    )
    assert decision_text("return", 8, CaseStatus.CLOSED, None) == "Return #8 closed."
    assert decision_text("other", 9, CaseStatus.REJECTED, None) == "Case #9 rejected."
