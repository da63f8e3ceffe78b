"""The conversation metrics on constructed histories: first response times, time to
handoff, resolution and handoff rates, CSAT, and the days of the store's calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portside.domain.metrics import (
    ConversationRecord,
    Period,
    RatingRecord,
    bot_response_s,
    conversation_rows,
    csat_rows,
    handoff_s,
    human_response_s,
    response_time_rows,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 1-3 March 2026 in Shanghai: from 28 February 16:00 UTC to 3 March 16:00 UTC.
PERIOD = Period(date(2026, 3, 1), date(2026, 3, 4), SHANGHAI)
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 March in Shanghai


def conversation(**changes: object) -> ConversationRecord:
    base = ConversationRecord(
        id=1,
        first_message_at=T0,
        bot_reply_at=T0 + timedelta(seconds=2),
        handoff_at=None,
        human_reply_at=None,
        human_agent_id=None,
        agent_id=None,
        ever_assigned=False,
        resolved=False,
        language="es",
        country="ES",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_the_period_is_whole_days_of_the_stores_calendar() -> None:
    assert PERIOD.start_at == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert PERIOD.end_at == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    assert PERIOD.days() == ["2026-03-01", "2026-03-02", "2026-03-03"]
    # 23:30 UTC on 1 March is already 2 March in Shanghai.
    assert PERIOD.day(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == "2026-03-02"
    assert not PERIOD.contains(PERIOD.end_at)
    assert PERIOD.contains(PERIOD.start_at)


def test_a_day_with_a_clock_change_is_still_one_day() -> None:
    # Madrid moves to summer time on 29 March 2026: that day has 23 hours.
    madrid = Period(date(2026, 3, 29), date(2026, 3, 30), ZoneInfo("Europe/Madrid"))
    assert madrid.end_at - madrid.start_at == timedelta(hours=23)


def test_the_bot_clock_runs_from_the_shoppers_first_message_to_the_bots_next() -> None:
    assert bot_response_s(conversation()) == 2.0
    assert bot_response_s(conversation(bot_reply_at=None)) is None


def test_the_human_clock_starts_at_the_handoff() -> None:
    handed = conversation(handoff_at=T0 + s(60), human_reply_at=T0 + s(90), human_agent_id=7)
    assert human_response_s(handed) == 30.0
    assert handoff_s(handed) == 60.0
    waiting = replace(handed, human_reply_at=None)
    assert human_response_s(waiting) is None
    assert human_response_s(conversation(human_reply_at=T0 + s(5))) is None  # no handoff


def test_a_handoff_before_the_shopper_wrote_has_no_time_to_handoff() -> None:
    assert handoff_s(conversation(handoff_at=T0 - s(10))) is None


def test_conversation_rates_count_bot_and_people_apart() -> None:
    records = [
        conversation(id=1, resolved=True),  # the bot alone
        conversation(id=2, handoff_at=T0 + s(30), resolved=True, agent_id=7),
        # Taken straight from the bot: a person had it, though never handed off.
        conversation(id=3, ever_assigned=True, agent_id=8, resolved=True),
        conversation(id=4, handoff_at=T0 + s(90)),  # handed off, still open
        conversation(id=5),  # the bot, still open (or reopened)
    ]
    [row] = conversation_rows(records, PERIOD, "all")
    assert row["group"] == "all"
    assert row["conversations"] == 5
    assert (row["handed_off"], row["handoff_rate"]) == (2, 0.4)
    assert (row["resolved_by_bot"], row["bot_resolution_rate"]) == (1, 0.2)
    assert (row["resolved_by_person"], row["person_resolution_rate"]) == (2, 0.4)
    assert row["time_to_handoff_n"] == 2
    assert row["time_to_handoff_p50_s"] == 60.0
    assert row["time_to_handoff_mean_s"] == 60.0


def test_handed_off_twice_counts_once_from_the_first_handoff() -> None:
    # The handoff column keeps the first handoff; a second one does not move the clocks.
    twice = conversation(
        handoff_at=T0 + s(20), human_reply_at=T0 + s(50), human_agent_id=7, agent_id=8
    )
    [row] = conversation_rows([twice], PERIOD, "all")
    assert (row["handed_off"], row["time_to_handoff_p50_s"]) == (1, 20.0)
    [times] = response_time_rows([twice], PERIOD, "all")
    assert times["human_frt_p50_s"] == 30.0


def test_a_reopened_conversation_is_not_resolved() -> None:
    reopened = conversation(resolved=False, handoff_at=T0 + s(5), agent_id=7)
    [row] = conversation_rows([reopened], PERIOD, "all")
    assert row["resolved_by_person"] == row["resolved_by_bot"] == 0


def test_conversations_belong_to_the_day_of_the_shoppers_first_message() -> None:
    late = conversation(id=2, first_message_at=datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
    outside = conversation(id=3, first_message_at=PERIOD.end_at)
    rows = conversation_rows([conversation(), late, outside], PERIOD, "day")
    assert [(r["group"], r["conversations"]) for r in rows] == [
        ("2026-03-01", 1),
        ("2026-03-02", 1),  # 01:00 in Shanghai
        ("2026-03-03", 0),  # an empty day is still a row
    ]
    assert rows[2]["handoff_rate"] is None


def test_breakdowns_by_language_country_and_agent() -> None:
    records = [
        conversation(id=1, language="es", country="MX"),
        conversation(id=2, language=None, country="MX", handoff_at=T0, agent_id=7),
        conversation(id=3, language="de", country=None, ever_assigned=True, agent_id=8),
    ]
    by_language = conversation_rows(records, PERIOD, "language")
    assert [r["group"] for r in by_language] == ["de", "es", "unknown"]
    by_country = conversation_rows(records, PERIOD, "country")
    assert [(r["group"], r["conversations"]) for r in by_country] == [("MX", 2), ("unknown", 1)]
    by_agent = conversation_rows(records, PERIOD, "agent")
    assert [(r["group"], r["conversations"]) for r in by_agent] == [("7", 1), ("8", 1)]


def test_response_times_per_agent_are_the_people_who_answered_first() -> None:
    records = [
        conversation(id=1, handoff_at=T0, human_reply_at=T0 + s(10), human_agent_id=7),
        conversation(id=2, handoff_at=T0, human_reply_at=T0 + s(30), human_agent_id=7),
        conversation(id=3, handoff_at=T0, human_reply_at=T0 + s(100), human_agent_id=8),
        conversation(id=4),  # the bot only
    ]
    rows = response_time_rows(records, PERIOD, "agent")
    assert [(r["group"], r["human_frt_n"], r["human_frt_p50_s"]) for r in rows] == [
        ("7", 2, 20.0),
        ("8", 1, 100.0),
    ]
    assert all(r["bot_frt_n"] == 0 for r in rows)
    [total] = response_time_rows(records, PERIOD, "all")
    assert (total["bot_frt_n"], total["bot_frt_p50_s"]) == (4, 2.0)
    assert total["human_frt_p90_s"] == pytest.approx(86.0)


def test_nothing_to_count_is_a_total_of_zero_with_no_rates() -> None:
    [row] = conversation_rows([], PERIOD, "all")
    assert (row["conversations"], row["handoff_rate"], row["time_to_handoff_p50_s"]) == (
        0,
        None,
        None,
    )
    [times] = response_time_rows([], PERIOD, "all")
    assert (times["bot_frt_n"], times["bot_frt_p50_s"]) == (0, None)


def rating(
    score: int | None, by: str = "agent", agent: int | None = 7, **kw: object
) -> RatingRecord:
    base = RatingRecord(T0, by, agent if by == "agent" else None, score, "es", "ES")
    return replace(base, **kw)  # type: ignore[arg-type]


def test_csat_for_the_bot_and_for_people() -> None:
    ratings = [
        rating(5, "bot"),
        rating(2, "bot"),
        rating(4),
        rating(5, agent=8),
        rating(1, agent=8),
        rating(None),  # asked, never answered
        rating(5, asked_at=PERIOD.end_at),  # outside the period
    ]
    [row] = csat_rows(ratings, PERIOD, "all")
    assert (row["bot_ratings"], row["bot_mean"], row["bot_satisfied_share"]) == (2, 3.5, 0.5)
    assert (row["human_ratings"], row["human_mean"], row["human_satisfied_share"]) == (
        3,
        3.33,
        0.6667,
    )
    per_agent = csat_rows(ratings, PERIOD, "agent")
    assert [(r["group"], r["human_ratings"], r["human_mean"]) for r in per_agent] == [
        ("7", 1, 4.0),
        ("8", 2, 3.0),
    ]
    assert all(r["bot_ratings"] == 0 for r in per_agent)


def test_a_breakdown_a_report_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="not broken down by rule"):
        conversation_rows([], PERIOD, "rule")
