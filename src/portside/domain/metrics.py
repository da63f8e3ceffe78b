"""What the numbers a store runs on mean, exactly: the conversation metrics (first
response times, time to handoff, resolution and handoff rates, CSAT) over plain records,
and the period and breakdowns every report shares. The commerce metrics (conversion,
uplift, checkout recovery, revenue) are in `domain/sales_metrics.py`.

Pure: no I/O. services/analytics.py reads the records with SQL, one per conversation
or rating, and these functions turn them into rows: one per group of the breakdown,
flat, with the columns `COLUMNS` names (the API's JSON and CSV use them as they are).
docs/analytics.md is the user's version of these definitions.

The clock of every conversation metric is the shopper's first message: a conversation
belongs to the report (and to the day, in the store's time zone) in which the shopper
first wrote in it. A conversation the shopper never wrote in (a proactive message left
unanswered) is not counted at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from portside.domain.stats import Durations, share, summarise

T = TypeVar("T")

UNKNOWN = "unknown"
ALL = "all"
# The breakdowns; `all` is one group, the report's total.
BREAKDOWNS = ("all", "day", "language", "country", "agent", "rule")
SATISFIED = 4  # a CSAT score of 4 or 5 is a satisfied shopper

Row = dict[str, Any]


@dataclass(frozen=True)
class Period:
    """Whole days [first, end) of a store's calendar, and the UTC instants they span."""

    first: date
    end: date  # exclusive
    zone: ZoneInfo

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.end, self.zone)

    def contains(self, at: datetime | None) -> bool:
        return at is not None and self.start_at <= at < self.end_at

    def day(self, at: datetime) -> str:
        """The store's calendar day of an instant, as YYYY-MM-DD."""
        return at.astimezone(self.zone).date().isoformat()

    def days(self) -> list[str]:
        count = (self.end - self.first).days
        return [(self.first + timedelta(days=i)).isoformat() for i in range(count)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant a day starts in a zone, in UTC (a midnight that a clock change skips
    is read with the offset before the change)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def group_by(
    items: Iterable[T], key: Callable[[T], str | None], period: Period, by: str
) -> dict[str, list[T]]:
    """Items by their group. Every day of the period is a group of its own (empty days
    included, so a chart has no gaps), and `all` is always there; other groups appear
    when they have an item, in order of their key, `unknown` (no value) last."""
    groups: dict[str, list[T]] = {}
    if by == "day":
        groups = {day: [] for day in period.days()}
    elif by == ALL:
        groups = {ALL: []}  # a total, even of nothing
    for item in items:
        groups.setdefault(key(item) or UNKNOWN, []).append(item)
    if by == "day":
        return groups
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == UNKNOWN, kv[0])))


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def durations(prefix: str, figures: Durations) -> Row:
    return {
        f"{prefix}_n": figures.n,
        f"{prefix}_p50_s": rounded(figures.p50, 3),
        f"{prefix}_p90_s": rounded(figures.p90, 3),
        f"{prefix}_mean_s": rounded(figures.mean, 3),
    }


def rate(count: int, of: int) -> float | None:
    return rounded(share(count, of), 4)


def check_breakdown(report: str, by: str, allowed: tuple[str, ...]) -> None:
    if by not in allowed:
        raise ValueError(f"{report} is not broken down by {by}")


# ---- conversations


@dataclass(frozen=True)
class ConversationRecord:
    """One conversation the shopper wrote in, as the analytics see it.

    `bot_reply_at`: the bot's first message after the shopper's first message (a
    proactive message sent before it does not count). `handoff_at`: the first time it
    went to the queue for a person (never moved by later handoffs). `human_reply_at`:
    the first message of a person at or after `handoff_at`, and `human_agent_id` who
    sent it. `agent_id`: the person who has it now (for a resolved one: who had it when
    it was resolved). `ever_assigned`: a person had it at some point, handed off or not
    (an agent can take a conversation straight from the bot). `resolved`: its status
    when the report is read.
    """

    id: int
    first_message_at: datetime
    bot_reply_at: datetime | None
    handoff_at: datetime | None
    human_reply_at: datetime | None
    human_agent_id: int | None
    agent_id: int | None
    ever_assigned: bool
    resolved: bool
    language: str | None
    country: str | None

    @property
    def handed_off(self) -> bool:
        return self.handoff_at is not None

    @property
    def had_a_person(self) -> bool:
        return self.handed_off or self.ever_assigned

    @property
    def person(self) -> int | None:
        """The agent a breakdown by agent puts it under: who has (had) it, else who
        answered it first."""
        return self.agent_id if self.agent_id is not None else self.human_agent_id


def bot_response_s(c: ConversationRecord) -> float | None:
    """Bot first response time: the shopper's first message to the bot's first message
    after it; None when the bot never answered."""
    return _seconds(c.first_message_at, c.bot_reply_at)


def human_response_s(c: ConversationRecord) -> float | None:
    """Human first response time: the (first) handoff to a person's first message after
    it; the human clock starts at the handoff, whatever the bot did before. None when
    never handed off or not answered by a person yet."""
    if c.handoff_at is None:
        return None
    return _seconds(c.handoff_at, c.human_reply_at)


def handoff_s(c: ConversationRecord) -> float | None:
    """Time to handoff: the shopper's first message to the first handoff; None when
    never handed off (or handed off before the shopper wrote, which has no such time)."""
    return _seconds(c.first_message_at, c.handoff_at)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    if end is None or end < start:
        return None
    return (end - start).total_seconds()


CONVERSATION_BREAKDOWNS = ("day", "language", "country", "agent", "all")
CONVERSATION_COLUMNS = (
    "group",
    "conversations",
    "handed_off",
    "handoff_rate",
    "resolved_by_bot",
    "bot_resolution_rate",
    "resolved_by_person",
    "person_resolution_rate",
    "time_to_handoff_n",
    "time_to_handoff_p50_s",
    "time_to_handoff_p90_s",
    "time_to_handoff_mean_s",
)


def conversation_rows(records: Iterable[ConversationRecord], period: Period, by: str) -> list[Row]:
    """Per group: conversations (the shopper wrote in them), how many were handed off
    and the handoff rate (handed off / conversations); resolved by the bot alone (resolved,
    and no person ever had it) and by a person (resolved, and a person had it), each
    over all the group's conversations; time to handoff. A conversation resolved and
    then reopened counts as resolved only once it is resolved again. By agent: the
    conversations a person had, under the agent who has (had) them."""
    check_breakdown("conversations", by, CONVERSATION_BREAKDOWNS)
    chosen = [c for c in records if period.contains(c.first_message_at)]
    if by == "agent":
        chosen = [c for c in chosen if c.had_a_person and c.person is not None]
    rows = []
    for group, items in group_by(chosen, _conversation_key(by, period), period, by).items():
        total = len(items)
        handed = sum(c.handed_off for c in items)
        by_bot = sum(c.resolved and not c.had_a_person for c in items)
        by_person = sum(c.resolved and c.had_a_person for c in items)
        waits = [s for c in items if (s := handoff_s(c)) is not None]
        rows.append(
            {
                "group": group,
                "conversations": total,
                "handed_off": handed,
                "handoff_rate": rate(handed, total),
                "resolved_by_bot": by_bot,
                "bot_resolution_rate": rate(by_bot, total),
                "resolved_by_person": by_person,
                "person_resolution_rate": rate(by_person, total),
                **durations("time_to_handoff", summarise(waits)),
            }
        )
    return rows


RESPONSE_TIME_COLUMNS = (
    "group",
    *(f"bot_frt_{k}" for k in ("n", "p50_s", "p90_s", "mean_s")),
    *(f"human_frt_{k}" for k in ("n", "p50_s", "p90_s", "mean_s")),
)


def response_time_rows(records: Iterable[ConversationRecord], period: Period, by: str) -> list[Row]:
    """Per group: first response times of the bot and of people (see `bot_response_s`,
    `human_response_s`): how many were measured, median, 90th percentile, mean. By
    agent: the people's only, under the agent who sent the first reply."""
    check_breakdown("response_times", by, CONVERSATION_BREAKDOWNS)
    chosen = [c for c in records if period.contains(c.first_message_at)]
    if by == "agent":
        chosen = [c for c in chosen if c.human_agent_id is not None]
    key = _responder if by == "agent" else _conversation_key(by, period)
    rows = []
    for group, items in group_by(chosen, key, period, by).items():
        bot = [] if by == "agent" else [s for c in items if (s := bot_response_s(c)) is not None]
        human = [s for c in items if (s := human_response_s(c)) is not None]
        rows.append(
            {
                "group": group,
                **durations("bot_frt", summarise(bot)),
                **durations("human_frt", summarise(human)),
            }
        )
    return rows


def _responder(c: ConversationRecord) -> str | None:
    return None if c.human_agent_id is None else str(c.human_agent_id)


def _conversation_key(by: str, period: Period) -> Callable[[ConversationRecord], str | None]:
    if by == "day":
        return lambda c: period.day(c.first_message_at)
    if by == "language":
        return lambda c: c.language
    if by == "country":
        return lambda c: c.country
    if by == "agent":
        return lambda c: None if c.person is None else str(c.person)
    return lambda _c: ALL


# ---- CSAT


@dataclass(frozen=True)
class RatingRecord:
    """A shopper's answer to a rating request. `asked_at`: when the resolution asked
    (the rating's day); `resolved_by` "bot" or "agent", and the agent's id."""

    asked_at: datetime
    resolved_by: str
    agent_id: int | None
    score: int | None
    language: str | None
    country: str | None


CSAT_COLUMNS = (
    "group",
    "bot_ratings",
    "bot_mean",
    "bot_satisfied_share",
    "human_ratings",
    "human_mean",
    "human_satisfied_share",
)


def csat_rows(ratings: Iterable[RatingRecord], period: Period, by: str) -> list[Row]:
    """Per group, for the bot and for people apart: the answered ratings of the
    resolutions asked in the period, their mean score (1-5) and the share of 4s and 5s.
    Unanswered requests are not counted. By agent: people's ratings, under the agent
    they belong to (services/csat.py decides whose a rating is)."""
    check_breakdown("csat", by, CONVERSATION_BREAKDOWNS)
    chosen = [r for r in ratings if r.score is not None and period.contains(r.asked_at)]
    if by == "agent":
        chosen = [r for r in chosen if r.resolved_by != "bot" and r.agent_id is not None]
    keys: dict[str, Callable[[RatingRecord], str | None]] = {
        "day": lambda r: period.day(r.asked_at),
        "language": lambda r: r.language,
        "country": lambda r: r.country,
        "agent": lambda r: str(r.agent_id),
        "all": lambda _r: ALL,
    }
    rows = []
    for group, items in group_by(chosen, keys[by], period, by).items():
        row: Row = {"group": group}
        for name, mine in (("bot", True), ("human", False)):
            scores = [r.score for r in items if (r.resolved_by == "bot") == mine and r.score]
            row[f"{name}_ratings"] = len(scores)
            row[f"{name}_mean"] = rounded(sum(scores) / len(scores), 2) if scores else None
            row[f"{name}_satisfied_share"] = rate(sum(s >= SATISFIED for s in scores), len(scores))
        rows.append(row)
    return rows
