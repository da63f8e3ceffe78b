"""Agents as the desk sees them: languages, teams, capacity, role, presence and load.

Admins change any agent of their store; every agent may say which languages they speak
and set their own presence. A change that may give someone room routes the queue.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from portside.errors import Forbidden, InvalidRequest, NotFound, field_error
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.presence import publish_presence
from portside.services.routing import do_route_queue, effective_presence
from portside.services.stores import ROLES, check_language
from portside.storage import routing_store, store_store, team_store

MAX_LANGUAGES = 20
MAX_TEAMS = 20
MAX_CONCURRENT = 100
# What an agent may change of their own profile; the rest is for admins.
SELF_FIELDS = frozenset({"languages"})
FIELDS = ("languages", "teams", "max_concurrent", "role")


async def list_agents(svc: Services, store_id: int) -> list[dict[str, Any]]:
    now = svc.clock.now()
    rows = await svc.db.read(lambda conn: routing_store.list_agents_with_load(conn, store_id))
    return [
        {
            "id": r.id,
            "name": r.name,
            "email": r.email,
            "role": r.role,
            "languages": list(r.languages or ()),
            "teams": list(r.teams or ()),
            "max_concurrent": r.max_concurrent,
            "presence": effective_presence(r, now).value,
            "load": int(r.load),
        }
        for r in rows
    ]


async def do_update_agent(
    svc: Services, actor: AgentIdentity, agent_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    unknown = set(changes) - set(FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise field_error(name, f"An agent has no setting {name!r}; they are {', '.join(FIELDS)}.")
    if actor.role != "admin" and (agent_id != actor.id or set(changes) - SELF_FIELDS):
        raise Forbidden("Only admins change agents; you may set your own languages.")
    values: dict[str, Any] = {}
    if "languages" in changes:
        values["languages"] = _languages(changes["languages"])
    if "max_concurrent" in changes:
        value = changes["max_concurrent"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            raise field_error(
                "max_concurrent",
                f"max_concurrent is a whole number from 1 to {MAX_CONCURRENT}.",
            )
        values["max_concurrent"] = value
    if "role" in changes:
        if changes["role"] not in ROLES:
            raise field_error("role", f"role is one of {', '.join(ROLES)}.")
        values["role"] = changes["role"]

    def update(conn: Connection) -> None:
        target = store_store.find_agent(conn, agent_id)
        if target is None or target.store_id != actor.store_id:
            raise NotFound("This agent does not exist.")
        if "teams" in changes:
            values["teams"] = _teams(conn, actor.store_id, changes["teams"])
        if values.get("role", "admin") != "admin" and target.role == "admin":
            admins = [a for a in store_store.list_agents(conn, actor.store_id) if a.role == "admin"]
            if len(admins) <= 1:
                raise field_error("role", "A store keeps at least one admin.")
        if values:
            store_store.update_agent(conn, agent_id, **values)

    await svc.db.write(update)
    await publish_presence(svc, actor.store_id, agent_id)
    await do_route_queue(svc, actor.store_id)
    agents = await list_agents(svc, actor.store_id)
    return next(a for a in agents if a["id"] == agent_id)


def _languages(raw: object) -> list[str]:
    if not isinstance(raw, list) or len(raw) > MAX_LANGUAGES:
        raise field_error("languages", f"languages is a list of at most {MAX_LANGUAGES} codes.")
    codes: list[str] = []
    for i, code in enumerate(raw):
        try:
            checked = check_language(code)
        except InvalidRequest as exc:
            raise field_error(f"languages[{i}]", str(exc)) from None
        if checked not in codes:
            codes.append(checked)
    return codes


def _teams(conn: Connection, store_id: int, raw: object) -> list[int]:
    if not isinstance(raw, list) or len(raw) > MAX_TEAMS:
        raise field_error("teams", f"teams is a list of at most {MAX_TEAMS} team ids.")
    ids: list[int] = []
    for i, team_id in enumerate(raw):
        if (
            not isinstance(team_id, int)
            or isinstance(team_id, bool)
            or team_store.find_team(conn, store_id, team_id) is None
        ):
            raise field_error(f"teams[{i}]", f"There is no team {team_id!r} in this store.")
        if team_id not in ids:
            ids.append(team_id)
    return ids
