"""Deleting a conversation, or a shopper with everything of theirs (docs/api.md#erasure).
Admins only; another store's conversation or shopper is 404, as one that never was."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from portside.services.erasure import do_delete_conversation, do_delete_visitor
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["erasure"])


@router.delete("/conversations/{conversation_id}")
async def delete_conversation(
    conversation_id: int, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    erased = await do_delete_conversation(svc, agent, conversation_id=conversation_id)
    return {"deleted": erased.to_dict()}


@router.delete("/visitors/{visitor_id}")
async def delete_visitor(visitor_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    erased = await do_delete_visitor(svc, agent, visitor_id=visitor_id)
    return {"deleted": {"visitor_id": erased.visitor_id, **erased.to_dict()}}
