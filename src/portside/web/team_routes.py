"""Teams over REST (docs/api.md): every agent reads them, admins change them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from portside.services import teams
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


@router.get("")
async def list_teams(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return {"teams": await teams.list_teams(svc, agent.store_id)}


@router.get("/{team_id}")
async def get_team(team_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await teams.get_team(svc, agent.store_id, team_id)


# Any JSON body: the service says which field is wrong, in words a person can act on.
@router.post("", status_code=201)
async def create_team(
    agent: AgentDep,
    svc: ServicesDep,
    body: Any = Body(...),  # noqa: B008 - FastAPI's way to take any JSON body
) -> dict[str, Any]:
    return await teams.do_create_team(svc, agent, body)


@router.patch("/{team_id}")
async def patch_team(
    team_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    body: Any = Body(...),  # noqa: B008
) -> dict[str, Any]:
    return await teams.do_update_team(svc, agent, team_id, body)


@router.delete("/{team_id}", status_code=204)
async def delete_team(team_id: int, agent: AgentDep, svc: ServicesDep) -> Response:
    await teams.do_delete_team(svc, agent, team_id)
    return Response(status_code=204)
