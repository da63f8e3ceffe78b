"""Trigger rules over REST (docs/engagement.md): every agent reads them, supervisors and
admins write them; the preview replays recent visitors against a rule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from portside.services import triggers
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"])


@router.get("")
async def list_triggers(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return {"triggers": await triggers.list_triggers(svc, agent.store_id)}


# Any JSON body: the service says which field is wrong, in words a person can act on.
@router.post("", status_code=201)
async def create_trigger(
    agent: AgentDep,
    svc: ServicesDep,
    body: Any = Body(...),  # noqa: B008 - FastAPI's way to take any JSON body
) -> dict[str, Any]:
    return await triggers.do_create_trigger(svc, agent, body)


@router.post("/preview")
async def preview_trigger(
    agent: AgentDep,
    svc: ServicesDep,
    body: Any = Body(...),  # noqa: B008
) -> dict[str, Any]:
    return await triggers.preview_trigger(svc, agent, body)


@router.get("/{trigger_id}")
async def get_trigger(trigger_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await triggers.get_trigger(svc, agent.store_id, trigger_id)


@router.put("/{trigger_id}")
async def put_trigger(
    trigger_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    body: Any = Body(...),  # noqa: B008
) -> dict[str, Any]:
    return await triggers.do_update_trigger(svc, agent, trigger_id, body)


@router.delete("/{trigger_id}", status_code=204)
async def delete_trigger(trigger_id: int, agent: AgentDep, svc: ServicesDep) -> Response:
    await triggers.do_delete_trigger(svc, agent, trigger_id)
    return Response(status_code=204)
