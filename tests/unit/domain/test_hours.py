"""Business hours: open or closed, and when next open, in teams' own time zones, across
daylight-saving changes, holidays and shifts past midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from portside.domain.hours import (
    Schedule,
    TeamHours,
    check_holidays,
    check_hours,
    is_open,
    make_schedule,
    next_opening,
    open_ranges,
    person_back_at,
)
from portside.errors import InvalidRequest

WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
NEW_YORK = ZoneInfo("America/New_York")
MADRID = ZoneInfo("Europe/Madrid")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold)  # type: ignore[misc]


def office(timezone: str, holidays: list[str] | None = None, **days: Any) -> Schedule:
    return make_schedule(timezone, days or WEEKDAYS, holidays or [])


# -- checking ----------------------------------------------------------------------------


def problems(hours: object) -> list[dict[str, str]]:
    with pytest.raises(InvalidRequest) as caught:
        check_hours(hours)
    details = caught.value.details
    assert isinstance(details, list)
    return details


def test_hours_are_stored_with_every_day_sorted_and_written_alike() -> None:
    assert check_hours({"MON": [["13:00", "18:00"], ["9:00", "12:30"]], "sat": []}) == {
        "mon": [["09:00", "12:30"], ["13:00", "18:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [],
        "sun": [],
    }
    assert check_hours(None) is None  # always open
    assert check_hours({"fri": [["22:00", "24:00"]], "sat": [["00:00", "06:00"]]}) is not None


def test_each_wrong_field_is_named_with_what_is_wrong() -> None:
    found = problems(
        {
            "funday": [["09:00", "18:00"]],
            "mon": [["09:00", "25:00"], ["18:00", "09:00"]],
            "tue": [["09:00", "13:00"], ["12:00", "18:00"]],
            "wed": [["24:00", "24:00"], ["10:00"], "all day"],
            "thu": "09:00-18:00",
        }
    )
    by_field = {p["field"]: p["problem"] for p in found}
    assert "is not a day" in by_field["hours.funday"]
    assert "'25:00' is not a time" in by_field["hours.mon[0]"]
    assert "not after it starts" in by_field["hours.mon[1]"]
    assert "two intervals" in by_field["hours.mon[1]"]  # how to write an overnight shift
    assert "overlaps 09:00-13:00" in by_field["hours.tue[1]"]
    assert "cannot start at 24:00" in by_field["hours.wed[0]"]
    assert "a start and an end" in by_field["hours.wed[1]"]
    assert "a start and an end" in by_field["hours.wed[2]"]
    assert "list of intervals" in by_field["hours.thu"]


@pytest.mark.parametrize(
    ("hours", "field", "words"),
    [
        ({"mon": [["09:00", "09:00"]]}, "hours.mon[0]", "not after it starts"),
        ({"mon": [["9:75", "10:00"]]}, "hours.mon[0]", "is not a time"),
        ({"mon": [["09:00", 18]]}, "hours.mon[0]", "is not a time"),
        ({"mon": []}, "hours", "always open has hours null"),
        ([["09:00", "18:00"]], "hours", "object of days"),
    ],
)
def test_hours_that_cannot_be_kept_are_refused(hours: object, field: str, words: str) -> None:
    found = problems(hours)
    assert found[0]["field"] == field
    assert words in found[0]["problem"]


def test_bad_time_zones_and_dates_are_refused_with_their_field() -> None:
    with pytest.raises(InvalidRequest) as zone:
        make_schedule("Mars/Olympus_Mons", WEEKDAYS)
    assert zone.value.details == [{"field": "timezone", "problem": "not an IANA time zone name"}]
    with pytest.raises(InvalidRequest) as day:
        check_holidays(["2026-12-25", "2026-02-30", "25/12/2026", 20261225])
    assert [p["field"] for p in day.value.details] == [  # type: ignore[union-attr]
        "holidays[1]",
        "holidays[2]",
        "holidays[3]",
    ]
    assert check_holidays(["2027-01-01", "2026-12-25", "2026-12-25"]) == [
        "2026-12-25",
        "2027-01-01",
    ]


# -- open or closed ----------------------------------------------------------------------


def test_an_office_in_shanghai_is_open_on_its_own_clock() -> None:
    team = office("Asia/Shanghai")
    # Monday 5 January 2026, 09:00 in Shanghai is 01:00 UTC.
    assert not is_open(team, utc(2026, 1, 5, 0, 59))
    assert is_open(team, utc(2026, 1, 5, 1, 0))
    assert is_open(team, utc(2026, 1, 5, 9, 59))
    assert not is_open(team, utc(2026, 1, 5, 10, 0))  # 18:00 closes
    # Saturday in Shanghai, though still Friday in New York.
    assert not is_open(team, local(SHANGHAI, 2026, 1, 10, 10, 0))


def test_the_next_opening_across_a_weekend() -> None:
    team = office("America/New_York")
    friday_evening = local(NEW_YORK, 2026, 1, 9, 19, 0)
    assert next_opening(team, friday_evening) == local(NEW_YORK, 2026, 1, 12, 9, 0)
    # While open, the next opening is now.
    monday = local(NEW_YORK, 2026, 1, 12, 10, 0)
    assert next_opening(team, monday) == monday.astimezone(UTC)


def test_the_next_opening_skips_a_holiday_after_the_weekend() -> None:
    team = office("Europe/Madrid", holidays=["2026-01-12"])
    friday_evening = local(MADRID, 2026, 1, 9, 19, 0)
    assert not is_open(team, local(MADRID, 2026, 1, 12, 10, 0))
    assert next_opening(team, friday_evening) == local(MADRID, 2026, 1, 13, 9, 0)


def test_holidays_on_the_only_open_day_push_the_opening_by_weeks() -> None:
    team = office(
        "Asia/Shanghai", ["2026-01-05", "2026-01-12", "2026-01-19"], mon=[["9:00", "12:00"]]
    )
    assert next_opening(team, local(SHANGHAI, 2026, 1, 1, 12, 0)) == local(
        SHANGHAI, 2026, 1, 26, 9, 0
    )


def test_an_overnight_shift_is_two_intervals_and_open_through_midnight() -> None:
    night = office("Europe/Madrid", fri=[["22:00", "24:00"]], sat=[["00:00", "06:00"]])
    assert not is_open(night, local(MADRID, 2026, 1, 9, 21, 59))
    assert is_open(night, local(MADRID, 2026, 1, 9, 23, 59, 59))
    assert is_open(night, local(MADRID, 2026, 1, 10, 0, 0))
    assert is_open(night, local(MADRID, 2026, 1, 10, 5, 59))
    assert not is_open(night, local(MADRID, 2026, 1, 10, 6, 0))
    assert next_opening(night, local(MADRID, 2026, 1, 9, 12, 0)) == local(MADRID, 2026, 1, 9, 22)
    # Friday's interval ends where Saturday's begins: one stretch of eight hours.
    assert open_ranges(night, date(2026, 1, 9)) == [
        (local(MADRID, 2026, 1, 9, 22), local(MADRID, 2026, 1, 10, 0))
    ]
    assert open_ranges(night, date(2026, 1, 10)) == [
        (local(MADRID, 2026, 1, 10, 0), local(MADRID, 2026, 1, 10, 6))
    ]


def test_a_holiday_closes_the_early_hours_of_that_date_too() -> None:
    night = office(
        "Europe/Madrid", ["2026-01-10"], fri=[["22:00", "24:00"]], sat=[["00:00", "06:00"]]
    )
    assert is_open(night, local(MADRID, 2026, 1, 9, 23, 0))
    assert not is_open(night, local(MADRID, 2026, 1, 10, 1, 0))


# -- daylight saving ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # New York springs forward on 8 March 2026: 9:00 is 14:00 UTC before, 13:00 after.
        ("America/New_York", utc(2026, 3, 6, 14), utc(2026, 3, 9, 13)),
        # and falls back on 1 November 2026: 9:00 is 13:00 UTC before, 14:00 after.
        ("America/New_York", utc(2026, 10, 30, 13), utc(2026, 11, 2, 14)),
        # Madrid springs forward on 29 March 2026 and falls back on 25 October 2026.
        ("Europe/Madrid", utc(2026, 3, 27, 8), utc(2026, 3, 30, 7)),
        ("Europe/Madrid", utc(2026, 10, 23, 7), utc(2026, 10, 26, 8)),
    ],
)
def test_nine_oclock_stays_nine_oclock_local_across_a_clock_change(
    zone: str, before: datetime, after: datetime
) -> None:
    team = office(zone)
    friday_evening = before + timedelta(hours=10)
    assert next_opening(team, before - timedelta(minutes=1)) == before
    assert next_opening(team, friday_evening) == after


def test_a_nine_oclock_opening_on_the_day_the_clocks_change_is_nine_local() -> None:
    sundays = office("America/New_York", sun=[["09:00", "17:00"]])
    saturday = local(NEW_YORK, 2026, 3, 7, 12)
    assert next_opening(sundays, saturday) == utc(2026, 3, 8, 13)  # EDT already
    autumn = local(NEW_YORK, 2026, 10, 31, 12)
    assert next_opening(sundays, autumn) == utc(2026, 11, 1, 14)  # EST again
    # The day is an hour shorter or longer; the open hours are the same eight.
    [(a, b)] = open_ranges(sundays, date(2026, 3, 8))
    assert b - a == timedelta(hours=8)
    [(a, b)] = open_ranges(sundays, date(2026, 11, 1))
    assert b - a == timedelta(hours=8)


def test_a_time_the_clock_skips_opens_when_the_clock_jumps() -> None:
    # 8 March 2026 in New York: 02:00 becomes 03:00.
    early = office("America/New_York", sun=[["02:30", "05:00"]])
    opening = next_opening(early, local(NEW_YORK, 2026, 3, 8, 0, 0))
    assert opening == local(NEW_YORK, 2026, 3, 8, 3, 0)
    assert opening is not None and opening.astimezone(NEW_YORK).hour == 3
    [(a, b)] = open_ranges(early, date(2026, 3, 8))
    assert b - a == timedelta(hours=2)  # 03:00 to 05:00: the skipped half hour is lost


def test_an_interval_wholly_inside_the_skipped_hour_does_not_happen_that_day() -> None:
    lost = office("America/New_York", sun=[["02:00", "02:45"]])
    assert open_ranges(lost, date(2026, 3, 8)) == []
    assert next_opening(lost, local(NEW_YORK, 2026, 3, 8, 0, 0)) == local(
        NEW_YORK, 2026, 3, 15, 2, 0
    )


def test_a_repeated_hour_opens_at_its_first_showing_and_stays_open_through_both() -> None:
    # 1 November 2026 in New York: 01:00-02:00 is shown twice (EDT, then EST).
    repeated = office("America/New_York", sun=[["01:00", "02:00"]])
    assert open_ranges(repeated, date(2026, 11, 1)) == [(utc(2026, 11, 1, 5), utc(2026, 11, 1, 7))]
    assert is_open(repeated, local(NEW_YORK, 2026, 11, 1, 1, 30, fold=0))
    assert is_open(repeated, local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1))
    half_past = office("America/New_York", sun=[["01:30", "03:00"]])
    assert next_opening(half_past, local(NEW_YORK, 2026, 11, 1, 0, 0)) == utc(2026, 11, 1, 5, 30)


def test_after_the_first_showing_the_repeat_opens_again() -> None:
    short = office("America/New_York", sun=[["01:00", "01:30"]])
    # 01:45 EDT: the half hour has passed once; at 02:00 EDT the clock shows 01:00 again.
    after_first = local(NEW_YORK, 2026, 11, 1, 1, 45, fold=0)
    assert not is_open(short, after_first)
    assert next_opening(short, after_first) == utc(2026, 11, 1, 6, 0)


def test_madrids_repeated_hour_is_open_twice_for_an_interval_over_it() -> None:
    # 25 October 2026 in Madrid: 02:00-03:00 is shown twice.
    team = office("Europe/Madrid", sun=[["00:00", "04:00"]])
    [(a, b)] = open_ranges(team, date(2026, 10, 25))
    assert b - a == timedelta(hours=5)


# -- whom a shopper can reach ------------------------------------------------------------


def test_a_person_is_reachable_with_no_team_with_hours_or_any_team_open() -> None:
    madrid = TeamHours(1, office("Europe/Madrid"))
    shanghai = TeamHours(2, office("Asia/Shanghai"))
    always = TeamHours(3, None)
    # Monday 12 January 2026 at 04:00 UTC: noon in Shanghai, 05:00 in Madrid.
    now = utc(2026, 1, 12, 4)
    assert person_back_at([], None, now) is None
    assert person_back_at([always], None, now) is None
    assert person_back_at([madrid, always], None, now) is None
    assert person_back_at([madrid, shanghai], None, now) is None  # Shanghai is open
    # The conversation in Madrid's queue waits for Madrid.
    assert person_back_at([madrid, shanghai], 1, now) == local(MADRID, 2026, 1, 12, 9)
    # A team that is gone: the store's rule.
    assert person_back_at([madrid, shanghai], 99, now) is None


def test_with_every_team_closed_the_soonest_opening_counts() -> None:
    madrid = TeamHours(1, office("Europe/Madrid"))
    new_york = TeamHours(2, office("America/New_York"))
    saturday = utc(2026, 1, 10, 12)
    assert person_back_at([madrid, new_york], None, saturday) == local(MADRID, 2026, 1, 12, 9)
    assert person_back_at([new_york], None, saturday) == local(NEW_YORK, 2026, 1, 12, 9)


def test_a_week_that_never_opens_is_never_promised() -> None:
    never = TeamHours(1, Schedule("Europe/Madrid", tuple(() for _ in range(7))))
    assert next_opening(never.schedule, utc(2026, 1, 10)) is None  # type: ignore[arg-type]
    assert person_back_at([never], None, utc(2026, 1, 10)) is None
