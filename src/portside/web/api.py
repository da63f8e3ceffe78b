"""The REST API for the console and integrations (docs/api.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from portside.agent.catalogue import default_intents
from portside.services import agents, catalog, inbox, intents, knowledge
from portside.services.conversations import do_change_status, do_send_agent_message
from portside.services.presence import do_set_presence
from portside.services.stores import do_update_store, store_to_dict
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["api"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageBody(_Body):
    client_id: str = Field(max_length=200)
    text: str = Field("", max_length=100_000)
    # Send a reply in the shopper's language (services/translation.py), or not at all.
    translate: bool = False
    # The agent's own unsent uploads (POST /api/v1/uploads) sent with it; text may then
    # be empty.
    attachments: list[int] | None = None


class AssignBody(_Body):
    agent_id: int | None


class TransferBody(_Body):
    team_id: int


class KnowledgeBody(_Body):
    intents: list[Any]
    title: dict[str, Any]
    text: dict[str, Any]


class StorePatch(_Body):
    name: str | None = None
    allowed_origins: list[str] | None = None
    default_language: str | None = None
    timezone: str | None = None


@router.get("/store")
async def get_store(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return store_to_dict(await catalog.get_store(svc, agent.store_id))


@router.patch("/store")
async def patch_store(body: StorePatch, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await do_update_store(svc, agent, body.model_dump(exclude_unset=True))


@router.get("/agents")
async def list_agents(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return {"agents": await agents.list_agents(svc, agent.store_id)}


@router.patch("/agents/{agent_id}")
async def patch_agent(
    agent_id: int, body: dict[str, Any], agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await agents.do_update_agent(svc, agent, agent_id, body)


class PresenceBody(_Body):
    presence: str


@router.put("/presence")
async def put_presence(body: PresenceBody, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    """Set the agent's own presence (also a `presence.set` frame on the console socket)."""
    chosen = await do_set_presence(svc, agent, body.presence)
    return {"presence": chosen.value}


@router.get("/conversations")
async def list_conversations(
    agent: AgentDep,
    svc: ServicesDep,
    filter: str = "all",
    limit: int = Query(50, ge=1, le=inbox.MAX_INBOX_PAGE),
    before: int | None = Query(None, ge=1),
) -> dict[str, Any]:
    rows, next_before = await inbox.list_inbox(
        svc, agent, filter=filter, limit=limit, before=before
    )
    return {"conversations": rows, "next_before": next_before}


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: int, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await inbox.get_conversation(svc, agent.store_id, conversation_id)


@router.get("/conversations/{conversation_id}/events")
async def list_events(
    conversation_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    after_seq: int = Query(0, ge=0),
    limit: int = Query(200, ge=1, le=inbox.MAX_EVENTS_PAGE),
) -> dict[str, Any]:
    page = await inbox.list_events(
        svc, agent.store_id, conversation_id, after_seq=after_seq, limit=limit
    )
    return {
        "events": [e.to_wire() for e in page.events],
        "last_seq": page.last_seq,
        "more": page.more,
    }


async def _send(
    conversation_id: int, body: MessageBody, agent: Any, svc: Any, response: Response, note: bool
) -> dict[str, Any]:
    result = await do_send_agent_message(
        svc,
        agent,
        conversation_id=conversation_id,
        client_id=body.client_id,
        text=body.text,
        note=note,
        translate=body.translate,
        attachments=body.attachments,
    )
    response.status_code = 200 if result.duplicate else 201
    return {"event": result.event.to_wire(), "duplicate": result.duplicate}


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: int,
    body: MessageBody,
    agent: AgentDep,
    svc: ServicesDep,
    response: Response,
) -> dict[str, Any]:
    return await _send(conversation_id, body, agent, svc, response, note=False)


@router.post("/conversations/{conversation_id}/notes", status_code=201)
async def post_note(
    conversation_id: int,
    body: MessageBody,
    agent: AgentDep,
    svc: ServicesDep,
    response: Response,
) -> dict[str, Any]:
    return await _send(conversation_id, body, agent, svc, response, note=True)


async def _act(
    svc: Any,
    agent: Any,
    conversation_id: int,
    action: str,
    assignee_id: int | None = None,
    team_id: int | None = None,
) -> dict[str, Any]:
    event = await do_change_status(
        svc,
        agent,
        conversation_id=conversation_id,
        action=action,
        assignee_id=assignee_id,
        team_id=team_id,
    )
    conversation = await inbox.get_conversation(svc, agent.store_id, conversation_id)
    return {"event": event.to_wire(), "conversation": conversation}


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(conversation_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "resolve")


@router.post("/conversations/{conversation_id}/reopen")
async def reopen(conversation_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "reopen")


@router.post("/conversations/{conversation_id}/handoff")
async def handoff(conversation_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "handoff")


@router.post("/conversations/{conversation_id}/handback")
async def handback(conversation_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "handback")


@router.post("/conversations/{conversation_id}/take")
async def take(conversation_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "take")


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    conversation_id: int, body: TransferBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "transfer", team_id=body.team_id)


@router.post("/conversations/{conversation_id}/assign")
async def assign(
    conversation_id: int, body: AssignBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await _act(svc, agent, conversation_id, "assign", body.agent_id)


@router.get("/products")
async def list_products(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return {"products": await catalog.list_products(svc, agent.store_id)}


@router.get("/products/{slug}")
async def get_product(slug: str, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await catalog.get_product(svc, agent.store_id, slug)


@router.get("/intents")
async def list_intents(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    """The intents the AI agent recognises: the catalogue's, then the store's own."""
    return {
        "intents": [
            {"name": name, "description": description, "source": "catalogue"}
            for name, description in default_intents().items()
        ]
        + await intents.list_store_intents(svc, agent.store_id)
    }


@router.get("/knowledge")
async def list_knowledge(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return {"entries": await knowledge.list_knowledge(svc, agent.store_id)}


@router.put("/knowledge/{slug}")
async def put_knowledge(
    slug: str, body: KnowledgeBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await knowledge.do_put_knowledge(
        svc,
        agent,
        slug=slug,
        intents=body.intents,
        title=body.title,
        text=body.text,
        known_intents={
            *default_intents(),
            *await intents.list_store_intent_names(svc, agent.store_id),
        },
    )


@router.delete("/knowledge/{slug}", status_code=204)
async def delete_knowledge(slug: str, agent: AgentDep, svc: ServicesDep) -> Response:
    await knowledge.do_delete_knowledge(svc, agent, slug=slug)
    return Response(status_code=204)
