"""Business hours: when a team answers, in its own time zone, holidays included.

A team's week is written in its local wall-clock time, `{"mon": [["09:00", "18:00"]]}`:
several intervals a day, an interval may end at "24:00", a shift past midnight is two
intervals (Friday's ["22:00", "24:00"] and Saturday's ["00:00", "06:00"]). A holiday is
a local date on which the team is closed all day, that night's early hours included.

The team keeps the wall clock, whatever the offset does: it is open whenever the local
clock shows a time inside an interval of the local date's weekday. So a 9:00 opening
on the day the clocks change is 9:00 local. Around a change this means, deliberately:

- spring forward: a time the clock skips (02:30 in New York on the second Sunday of
  March) is reached when the clock jumps, so an opening at 02:30 opens at 03:00; an
  interval lying wholly inside the skipped hour does not happen that day;
- fall back: a time the clock shows twice (01:30 on the first Sunday of November) opens
  at its first showing, and an interval over the repeated hour stays open through both
  (it is an hour longer in real time), as the staff on the wall clock would be.

Pure: standard library only (zoneinfo for the zones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from portside.errors import InvalidRequest

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_A_DAY = 12
MAX_HOLIDAYS = 400
DAY_MINUTES = 24 * 60

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# No zone is more than 14 hours from UTC; 16 leaves room for odd historical offsets.
_SLACK = timedelta(hours=16)
# Offset changes are looked for at this step, then pinned to the second. Zones never
# change twice within it.
_STEP = timedelta(hours=3)

Interval = tuple[int, int]  # minutes from local midnight, [start, end)


@dataclass(frozen=True)
class Schedule:
    """A team's checked week (minutes from local midnight, by weekday, Monday first),
    its zone and its holidays."""

    timezone: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


# -- checking what an admin writes ------------------------------------------------------


class _Problems:
    """Every problem of a request, each with the field it is about."""

    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def add(self, field: str, problem: str) -> None:
        self.found.append({"field": field, "problem": problem})

    def raise_any(self) -> None:
        if not self.found:
            return
        first = self.found[0]
        more = len(self.found) - 1
        message = f"{first['field']}: {first['problem']}"
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise InvalidRequest(message, details=self.found)


def check_timezone(name: object, field: str = "timezone") -> str:
    if not isinstance(name, str) or name not in _known_zones():
        raise InvalidRequest(
            f"{field}: {name!r} is not a time zone name like Europe/Madrid.",
            details=[{"field": field, "problem": "not an IANA time zone name"}],
        )
    return name


def check_hours(hours: object) -> dict[str, list[list[str]]] | None:
    """The week as stored and shown: every day, its intervals sorted, times "HH:MM";
    None (always open) stays None."""
    if hours is None:
        return None
    week = _parse_week(hours)
    return {day: [[_clock(a), _clock(b)] for a, b in week[i]] for i, day in enumerate(DAYS)}


def check_holidays(holidays: object) -> list[str]:
    """Local dates "YYYY-MM-DD", sorted, each once."""
    return [d.isoformat() for d in sorted(_parse_holidays(holidays))]


def make_schedule(
    timezone: str, hours: Mapping[str, object], holidays: Iterable[object] = ()
) -> Schedule:
    """A Schedule from hours and holidays as `check_hours`/`check_holidays` accept them."""
    return Schedule(
        timezone=check_timezone(timezone),
        week=_parse_week(hours),
        holidays=frozenset(_parse_holidays(list(holidays))),
    )


def _parse_week(hours: object) -> tuple[tuple[Interval, ...], ...]:
    problems = _Problems()
    if not isinstance(hours, Mapping):
        problems.add("hours", 'is an object of days, like {"mon": [["09:00", "18:00"]]}, or null')
        problems.raise_any()
    assert isinstance(hours, Mapping)
    week: list[tuple[Interval, ...]] = [() for _ in DAYS]
    for key, value in hours.items():
        day = str(key).lower()
        if day not in DAYS:
            problems.add(f"hours.{key}", f"is not a day; the days are {', '.join(DAYS)}")
            continue
        week[DAYS.index(day)] = _parse_day(problems, f"hours.{key}", value)
    problems.raise_any()
    if not any(week):
        problems.add("hours", "has no interval at all; a team that is always open has hours null")
        problems.raise_any()
    return tuple(week)


def _parse_day(problems: _Problems, field: str, value: object) -> tuple[Interval, ...]:
    if not isinstance(value, list | tuple):
        problems.add(field, 'is a list of intervals like [["09:00", "12:00"]]; [] for closed')
        return ()
    if len(value) > MAX_INTERVALS_A_DAY:
        problems.add(field, f"has more than {MAX_INTERVALS_A_DAY} intervals")
        return ()
    intervals: list[tuple[Interval, str]] = []
    for i, pair in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            problems.add(where, 'is a start and an end, like ["09:00", "18:00"]')
            continue
        start = _parse_clock(problems, where, pair[0], may_be_midnight=False)
        end = _parse_clock(problems, where, pair[1], may_be_midnight=True)
        if start is None or end is None:
            continue
        if end <= start:
            problems.add(
                where,
                f"ends at {_clock(end)}, not after it starts at {_clock(start)}; a shift "
                'past midnight is two intervals: ["22:00", "24:00"] and the next '
                'day\'s ["00:00", "06:00"]',
            )
            continue
        intervals.append(((start, end), where))
    intervals.sort()
    for (before, _), (after, where) in pairwise(intervals):
        if after[0] < before[1]:
            problems.add(
                where,
                f"overlaps {_clock(before[0])}-{_clock(before[1])}; intervals of a day "
                "must not overlap",
            )
    return tuple(interval for interval, _ in intervals)


def _parse_clock(
    problems: _Problems, field: str, value: object, *, may_be_midnight: bool
) -> int | None:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    minutes = int(match[1]) * 60 + int(match[2]) if match else -1
    if match and int(match[2]) < 60 and 0 <= minutes < DAY_MINUTES:
        return minutes
    if match and minutes == DAY_MINUTES and may_be_midnight:
        return minutes
    if match and minutes == DAY_MINUTES:
        problems.add(field, "cannot start at 24:00; start the next day at 00:00")
        return None
    problems.add(field, f"{value!r} is not a time from 00:00 to 23:59 (24:00 may end an interval)")
    return None


def _parse_holidays(holidays: object) -> set[date]:
    problems = _Problems()
    if not isinstance(holidays, list | tuple):
        problems.add("holidays", 'is a list of local dates like ["2026-12-25"]')
        problems.raise_any()
    assert isinstance(holidays, list | tuple)
    if len(holidays) > MAX_HOLIDAYS:
        problems.add("holidays", f"has more than {MAX_HOLIDAYS} dates")
        problems.raise_any()
    found: set[date] = set()
    for i, value in enumerate(holidays):
        try:
            if not isinstance(value, str) or not _DATE.match(value):
                raise ValueError
            found.add(date.fromisoformat(value))
        except ValueError:
            problems.add(f"holidays[{i}]", f"{value!r} is not a date like 2026-12-25")
    problems.raise_any()
    return found


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# -- when a team is open ------------------------------------------------------------------


def is_open(schedule: Schedule, now: datetime) -> bool:
    """Whether the local wall clock at `now` (aware) is inside an interval of its day."""
    local = now.astimezone(schedule.zone)
    day = local.date()
    if day in schedule.holidays:
        return False
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return any(a * 60 <= seconds < b * 60 for a, b in schedule.week[day.weekday()])


def next_opening(schedule: Schedule, now: datetime) -> datetime | None:
    """The first moment from `now` on at which the team is open, in UTC: `now` itself
    while it is open; None if it never opens (a week with no interval)."""
    if is_open(schedule, now):
        return now.astimezone(UTC)
    if not any(schedule.week):
        return None
    today = now.astimezone(schedule.zone).date()
    best: datetime | None = None
    # Every week has an opening; each holiday can cancel at most one of them. From the
    # day before: a fall-back at midnight shows the end of yesterday again.
    for offset in range(-1, 7 * (len(schedule.holidays) + 1) + 2):
        day = today + timedelta(days=offset)
        if best is not None and day > best.astimezone(schedule.zone).date() + timedelta(days=1):
            break
        for start, _end in open_ranges(schedule, day):
            if start > now and (best is None or start < best):
                best = start
    return best


def open_ranges(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """The UTC moments at which the team is open by the intervals of local date `day`,
    as [start, end) ranges in order. Each is the set of instants whose wall-clock time
    falls inside an interval: skipped times are not in it, repeated times are twice."""
    if day in schedule.holidays:
        return []
    intervals = schedule.week[day.weekday()]
    if not intervals:
        return []
    midnight = datetime.combine(day, time())
    pieces = _constant_offsets(
        schedule.zone, midnight - _SLACK, midnight + timedelta(days=1) + _SLACK
    )
    ranges: list[tuple[datetime, datetime]] = []
    for start, end in intervals:
        wall_start = midnight + timedelta(minutes=start)
        wall_end = midnight + timedelta(minutes=end)
        for lo, hi, offset in pieces:
            a, b = max(lo, wall_start - offset), min(hi, wall_end - offset)
            if a >= b:
                continue
            if ranges and ranges[-1][1] == a:
                ranges[-1] = (ranges[-1][0], b)  # one interval across a spring-forward
            else:
                ranges.append((a, b))
    return sorted((a.replace(tzinfo=UTC), b.replace(tzinfo=UTC)) for a, b in ranges)


def _constant_offsets(
    zone: ZoneInfo, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[lo, hi) of naive UTC time cut where the zone's offset changes: (from, to, offset)."""
    pieces: list[tuple[datetime, datetime, timedelta]] = []
    start, offset = lo, _offset(zone, lo)
    probe = lo
    while probe < hi:
        following = min(probe + _STEP, hi)
        later = _offset(zone, following)
        if later != offset:
            change = _change_between(zone, probe, following, offset)
            pieces.append((start, change, offset))
            start, offset = change, later
        probe = following
    pieces.append((start, hi, offset))
    return pieces


def _change_between(
    zone: ZoneInfo, before: datetime, after: datetime, offset: timedelta
) -> datetime:
    """The first second in (before, after] whose offset is no longer `offset`."""
    lo, hi = 0, int((after - before).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, before + timedelta(seconds=mid)) == offset:
            lo = mid
        else:
            hi = mid
    return before + timedelta(seconds=hi)


def _offset(zone: ZoneInfo, naive_utc: datetime) -> timedelta:
    found = naive_utc.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    return found if found is not None else timedelta(0)


# -- a store's rule -------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamHours:
    """A team as the rule below sees it: None hours is always open."""

    id: int
    schedule: Schedule | None


def person_back_at(
    teams: Sequence[TeamHours], team_id: int | None, now: datetime
) -> datetime | None:
    """When a person can next be reached for a conversation: None if now.

    A conversation in a team's queue follows that team's hours. One with no team (or
    whose team is gone) can reach a person whenever any team is open, and always when
    the store has no team with hours. Teams whose week never opens (which checking
    refuses) are left out; if no team is left, a person counts as reachable, as before
    there were hours: the shopper is never told of a return that will not come.
    """
    chosen = [team for team in teams if team.id == team_id] or list(teams)
    if any(team.schedule is None for team in chosen):
        return None
    openings = [next_opening(team.schedule, now) for team in chosen if team.schedule is not None]
    known = [at for at in openings if at is not None]
    if not known:
        return None
    soonest = min(known)
    return None if soonest <= now else soonest


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"{name!r} is not a time zone name.") from None
