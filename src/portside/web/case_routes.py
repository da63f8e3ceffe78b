"""Cases over REST: the returns and exchanges the bot opened, for the store's agents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from portside.services import cases
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


class CasePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(max_length=32)
    # Long enough for the service to say how long a note may be.
    note: str | None = Field(None, max_length=100_000)


@router.get("")
async def list_cases(
    agent: AgentDep,
    svc: ServicesDep,
    status: str | None = Query(None, max_length=32),
    conversation_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=cases.MAX_CASES_PAGE),
) -> dict[str, Any]:
    found = await cases.list_cases(
        svc, agent.store_id, status=status or None, conversation_id=conversation_id, limit=limit
    )
    return {"cases": found}


@router.get("/{case_id}")
async def get_case(case_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await cases.get_case(svc, agent.store_id, case_id)


@router.patch("/{case_id}")
async def patch_case(
    case_id: int, body: CasePatch, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await cases.do_change_case_status(
        svc, agent, case_id=case_id, status=body.status, note=body.note
    )
