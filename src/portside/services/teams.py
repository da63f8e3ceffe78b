"""Teams: a store's groups of agents, each with its business hours (docs/api.md).

Every agent of the store reads them; its admins create, change and delete them. Hours
are checked whole (domain/hours.py) and an error names the field it is about. Deleting
a team takes it out of its agents' lists, and its conversations lose their team (the
foreign key sets it null): they then follow the store's rule for conversations with no
team.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import format_time
from portside.domain.hours import check_holidays, check_hours, check_timezone, next_opening
from portside.errors import Conflict, Forbidden, InvalidRequest, NotFound
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.opening import team_hours
from portside.storage import store_store, team_store

FIELDS = ("name", "timezone", "hours", "holidays")
MAX_NAME = 100


def team_to_dict(row: Row[Any], now: datetime) -> dict[str, Any]:
    """A team as the API shows it, with whether it is open at `now` and, if not, when
    it opens next (null for a team that is always open)."""
    schedule = team_hours(row).schedule
    opens = next_opening(schedule, now) if schedule is not None else now
    return {
        "id": row.id,
        "name": row.name,
        "timezone": row.timezone,
        "hours": row.hours,
        "holidays": list(row.holidays or []),
        "open_now": opens is not None and opens <= now,
        "next_opening": format_time(opens) if opens is not None and opens > now else None,
    }


async def list_teams(svc: Services, store_id: int) -> list[dict[str, Any]]:
    rows = await svc.db.read(lambda conn: team_store.list_teams(conn, store_id))
    now = svc.clock.now()
    return [team_to_dict(row, now) for row in rows]


async def get_team(svc: Services, store_id: int, team_id: int) -> dict[str, Any]:
    row = await svc.db.read(lambda conn: team_store.find_team(conn, store_id, team_id))
    if row is None:
        raise NotFound("This team does not exist.")
    return team_to_dict(row, svc.clock.now())


async def do_create_team(svc: Services, agent: AgentIdentity, body: object) -> dict[str, Any]:
    """A new team; its time zone is the store's unless given, its hours null (always
    open) unless given."""
    _check_admin(agent, "create")
    values = _check_body(body, require_name=True)

    def create(conn: Connection) -> Row[Any]:
        store = store_store.find_store(conn, agent.store_id)
        if store is None:
            raise NotFound("This store does not exist.")
        values.setdefault("timezone", store.timezone)
        values.setdefault("hours", None)
        values.setdefault("holidays", [])
        team_id = team_store.insert_team(
            conn, store_id=agent.store_id, created_at=svc.clock.now(), **values
        )
        row = team_store.find_team(conn, agent.store_id, team_id)
        assert row is not None
        return row

    row = await _writing(svc, agent.store_id, create, values.get("name"))
    return team_to_dict(row, svc.clock.now())


async def do_update_team(
    svc: Services, agent: AgentIdentity, team_id: int, body: object
) -> dict[str, Any]:
    """Change the fields given (`"hours": null` makes the team always open)."""
    _check_admin(agent, "change")
    values = _check_body(body, require_name=False)

    def change(conn: Connection) -> Row[Any]:
        if team_store.find_team(conn, agent.store_id, team_id) is None:
            raise NotFound("This team does not exist.")
        if values:
            team_store.update_team(conn, team_id, **values)
        row = team_store.find_team(conn, agent.store_id, team_id)
        assert row is not None
        return row

    row = await _writing(svc, agent.store_id, change, values.get("name"))
    return team_to_dict(row, svc.clock.now())


async def do_delete_team(svc: Services, agent: AgentIdentity, team_id: int) -> None:
    _check_admin(agent, "delete")
    deleted = await svc.db.write(lambda conn: team_store.delete_team(conn, agent.store_id, team_id))
    svc.opening_hours.forget(agent.store_id)
    if not deleted:
        raise NotFound("This team does not exist.")


async def _writing(
    svc: Services, store_id: int, work: Callable[[Connection], Row[Any]], name: object
) -> Row[Any]:
    try:
        row: Row[Any] = await svc.db.write(work)
    except IntegrityError:
        raise Conflict(
            f"The store has a team called {name!r} already.",
            details=[{"field": "name", "problem": "another team has this name"}],
        ) from None
    # This node answers from the new hours at once; the others within opening.CACHE_S.
    svc.opening_hours.forget(store_id)
    return row


def _check_admin(agent: AgentIdentity, verb: str) -> None:
    if agent.role != "admin":
        raise Forbidden(f"Only a store's admins can {verb} teams.")


def _check_body(body: object, *, require_name: bool) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidRequest(
            "A team is a JSON object with name, timezone, hours and holidays.",
            details=[{"field": "body", "problem": "is not a JSON object"}],
        )
    unknown = sorted(str(key) for key in body if key not in FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Unknown fields: {', '.join(unknown)}. A team has {', '.join(FIELDS)}.",
            details=[{"field": key, "problem": "unknown field"} for key in unknown],
        )
    values: dict[str, Any] = {}
    if "name" in body or require_name:
        values["name"] = _check_name(body.get("name"))
    if "timezone" in body:
        values["timezone"] = check_timezone(body["timezone"])
    if "hours" in body:
        values["hours"] = check_hours(body["hours"])
    if "holidays" in body:
        values["holidays"] = check_holidays(body["holidays"])
    return values


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise InvalidRequest(
            f"name: a team needs a name of 1 to {MAX_NAME} characters.",
            details=[{"field": "name", "problem": f"is text of 1 to {MAX_NAME} characters"}],
        )
    return name.strip()
