"""Translation for the console (docs/api.md, "Translation"): what the store's translator
can do, and a shopper's message translated for the agent, once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from portside.services import translation
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["translation"])


class TranslateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The language to translate into; by default the agent's first language.
    language: str | None = Field(default=None, max_length=35)


@router.get("/translation")
async def get_translation(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await translation.get_translation_status(svc, agent)


@router.get("/conversations/{conversation_id}/translation")
async def get_conversation_translation(
    conversation_id: int, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await translation.get_conversation_translation(svc, agent, conversation_id)


@router.post("/conversations/{conversation_id}/events/{event_id}/translations", status_code=201)
async def translate_message(
    conversation_id: int,
    event_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    response: Response,
    body: TranslateBody | None = None,
) -> dict[str, Any]:
    event, reused = await translation.do_translate_message(
        svc,
        agent,
        conversation_id=conversation_id,
        event_id=event_id,
        language=body.language if body is not None else None,
    )
    response.status_code = 200 if reused else 201
    return {"event": event.to_wire(), "reused": reused}
