"""SLA clocks: which run, when they are due, and when the desk is warned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portside.domain.sla import SlaTargets, running_clocks

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
TARGETS = SlaTargets(first_response_s=120, next_response_s=300, resolution_s=3600)


@dataclass
class Row:
    status: str = "queued"
    handoff_at: datetime | None = T0
    first_reply_at: datetime | None = None
    awaiting_since: datetime | None = None


def kinds(row: Row, targets: SlaTargets = TARGETS) -> list[tuple[str, datetime]]:
    return [(c.kind, c.due_at) for c in running_clocks(row, targets)]


def test_the_human_clocks_start_at_the_handoff() -> None:
    assert kinds(Row()) == [
        ("first_response", T0 + timedelta(seconds=120)),
        ("resolution", T0 + timedelta(hours=1)),
    ]


def test_after_the_first_reply_the_next_response_clock_runs_from_the_shoppers_message() -> None:
    waiting = T0 + timedelta(minutes=10)
    row = Row("assigned", first_reply_at=T0 + timedelta(minutes=1), awaiting_since=waiting)
    assert kinds(row) == [
        ("next_response", waiting + timedelta(minutes=5)),
        ("resolution", T0 + timedelta(hours=1)),
    ]
    answered = Row("assigned", first_reply_at=T0 + timedelta(minutes=1))
    assert kinds(answered) == [("resolution", T0 + timedelta(hours=1))]


def test_no_clock_runs_for_the_bot_a_resolved_conversation_or_no_target() -> None:
    assert kinds(Row("bot", handoff_at=None)) == []
    assert kinds(Row("resolved")) == []
    assert kinds(Row(), SlaTargets()) == []


def test_a_clock_warns_before_it_is_breached() -> None:
    clock = running_clocks(Row(), TARGETS)[0]
    assert clock.state(T0 + timedelta(seconds=30), warn_before_s=60) == "ok"
    assert clock.state(T0 + timedelta(seconds=61), warn_before_s=60) == "warning"
    assert clock.state(T0 + timedelta(seconds=120), warn_before_s=60) == "breached"
