"""Canned replies, suggested replies and CSAT ratings over REST (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from portside.agent.replies import default_replies
from portside.agent.suggestions import MessageReader, suggest_replies
from portside.services import canned, csat
from portside.services.canned_render import list_rendered
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["replies"])


# Fields are checked by the service, which names the one that is wrong.
class CannedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: Any = None
    language: Any = None
    text: Any = None


def _status_name(language: str, status: str) -> str:
    """An order's status as the AI agent words it to shoppers ("on its way")."""
    return default_replies().phrase(language, "status_names", status)


@router.get("/canned-replies")
async def list_canned(
    agent: AgentDep,
    svc: ServicesDep,
    q: str | None = Query(None, max_length=200),
    language: str | None = Query(None, max_length=16),
) -> dict[str, Any]:
    return {
        "canned_replies": await canned.list_canned(svc, agent.store_id, query=q, language=language),
        "variables": canned.variables_list(),
    }


@router.post("/canned-replies", status_code=201)
async def create_canned(body: CannedBody, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await canned.do_create_canned(svc, agent, body.model_dump(exclude_unset=True))


@router.patch("/canned-replies/{reply_id}")
async def update_canned(
    reply_id: int, body: CannedBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await canned.do_update_canned(svc, agent, reply_id, body.model_dump(exclude_unset=True))


@router.delete("/canned-replies/{reply_id}", status_code=204)
async def delete_canned(reply_id: int, agent: AgentDep, svc: ServicesDep) -> Response:
    await canned.do_delete_canned(svc, agent, reply_id)
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/canned-replies")
async def rendered_canned(
    conversation_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    q: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    return await list_rendered(svc, agent, conversation_id, query=q, status_name=_status_name)


@router.get("/conversations/{conversation_id}/suggestions")
async def suggestions(
    conversation_id: int, request: Request, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    # None when the AI agent is off on this server: labels and the bot's answers only.
    reader: MessageReader | None = getattr(request.app.state, "bot", None)
    return await suggest_replies(
        svc, reader, store_id=agent.store_id, conversation_id=conversation_id
    )


@router.get("/ratings/summary")
async def ratings_summary(
    agent: AgentDep,
    svc: ServicesDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    return await csat.get_ratings_summary(svc, agent, since=_utc(since), until=_utc(until))


def _utc(when: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC, as every time in the API is."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)
