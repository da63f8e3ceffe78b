"""When a person can next be reached: teams' business hours read from the store.

`find_next_opening` answers inside a transaction, from the rows as they are: routing
and the bot's writes use it, so what they decide matches the hours at that moment.
`find_next_opening_cached` answers on the path of every shopper message (does the bot
answer while the conversation waits?) from the store's teams kept for `CACHE_S`:
a change on this node applies at once, on other nodes within that time. The cached
answer only decides whether the bot is asked; the bot's write checks again, uncached.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from portside.clock import Clock
from portside.domain.conversations import Status
from portside.domain.hours import TeamHours, make_schedule, person_back_at
from portside.errors import InvalidRequest
from portside.services._expiring import ExpiringCache
from portside.storage import team_store

if TYPE_CHECKING:  # the services' context holds this module's cache
    from portside.services.context import Services

# How long a node keeps a store's teams before reading them again.
CACHE_S = 30.0
# Stores whose teams are kept at most (those read longest ago go first).
CACHED_STORES = 10_000


class OpeningHoursCache(ExpiringCache[int, tuple[TeamHours, ...]]):
    """A store's teams as the opening rule sees them, per node, for a short time."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, CACHE_S, CACHED_STORES)

    def forget(self, store_id: int) -> None:
        self.drop(store_id)


def team_hours(row: Any) -> TeamHours:
    """A team row as the rule sees it. Rows are checked when written; one that no longer
    reads (a time zone dropped from the database) counts as always open."""
    if row.hours is None:
        return TeamHours(int(row.id), None)
    try:
        schedule = make_schedule(row.timezone, row.hours, row.holidays or [])
    except InvalidRequest:
        return TeamHours(int(row.id), None)
    return TeamHours(int(row.id), schedule)


def load_team_hours(conn: Connection, store_id: int) -> tuple[TeamHours, ...]:
    return tuple(team_hours(row) for row in team_store.list_team_hours(conn, store_id))


def find_next_opening(
    conn: Connection, store_id: int, team_id: int | None, now: datetime
) -> datetime | None:
    """When a person can next be reached for a conversation of `team_id` (None: no
    team), in UTC; None if one can be now (domain/hours.py `person_back_at`)."""
    return person_back_at(load_team_hours(conn, store_id), team_id, now)


async def find_next_opening_cached(
    svc: Services,
    store_id: int,
    team_id: int | None,
    now: datetime | None = None,
    *,
    fresh: bool = False,
) -> datetime | None:
    """`find_next_opening` from the node's copy of the store's teams; with `fresh`,
    from the teams read now (which the copy then becomes)."""
    cache = svc.opening_hours
    teams: Sequence[TeamHours] | None = None if fresh else cache.get(store_id)
    if teams is None:
        teams = await svc.db.read(lambda conn: load_team_hours(conn, store_id))
        cache.put(store_id, tuple(teams))
    return person_back_at(teams, team_id, now or svc.clock.now())


def bot_stands_in(conn: Connection, row: Any, now: datetime) -> bool:
    """Whether the bot may answer in this conversation: while it is the bot's, and while
    it waits in the queue with no person to be reached (outside business hours)."""
    status = Status(row.status)
    if status is Status.BOT:
        return True
    return (
        status is Status.QUEUED
        and find_next_opening(conn, int(row.store_id), row.team_id, now) is not None
    )
