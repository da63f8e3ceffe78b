"""A store's settings over REST, by section (docs/api.md): agents read, admins write."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from portside.services import settings
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])


@router.get("/{section}")
async def get_settings(section: str, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await settings.get_settings(svc, agent, section)


@router.put("/{section}")
async def put_settings(
    section: str,
    agent: AgentDep,
    svc: ServicesDep,
    body: Any = Body(...),  # noqa: B008 - FastAPI's way to take any JSON body
) -> dict[str, Any]:
    # Any JSON: the service says which field is wrong, in words a person can act on.
    return await settings.do_put_settings(svc, agent, section, body)
