"""A store's own intents, labelled examples and retraining over REST (docs/api.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from portside.agent.catalogue import default_intents
from portside.agent.retraining import StoreTrainer
from portside.errors import Conflict, Forbidden
from portside.services import intents
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["intents"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Fields are checked by the service, which says what is wrong in words.
class IntentBody(_Body):
    name: Any = None
    description: Any = None


class ExampleBody(_Body):
    text: Any = None
    intent: Any = None
    language: Any = None


class LabelBody(_Body):
    intent: Any = None


@router.post("/intents", status_code=201)
async def create_intent(body: IntentBody, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await intents.do_create_intent(
        svc, agent, name=body.name, description=body.description, catalogue=default_intents()
    )


@router.get("/intents/examples")
async def list_examples(
    agent: AgentDep, svc: ServicesDep, intent: str | None = Query(None, max_length=64)
) -> dict[str, Any]:
    return {"examples": await intents.list_examples(svc, agent.store_id, intent=intent)}


@router.post("/intents/examples", status_code=201)
async def add_example(body: ExampleBody, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await intents.do_add_example(
        svc,
        agent,
        text=body.text,
        intent=body.intent,
        language=body.language,
        catalogue=default_intents(),
    )


@router.delete("/intents/examples/{example_id}", status_code=204)
async def delete_example(example_id: int, agent: AgentDep, svc: ServicesDep) -> Response:
    await intents.do_delete_example(svc, agent, example_id=example_id)
    return Response(status_code=204)


@router.get("/intents/model")
async def get_model(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await intents.get_model_state(svc, agent.store_id)


@router.post("/intents/retrain", status_code=202)
async def retrain(request: Request, agent: AgentDep) -> dict[str, Any]:
    if agent.role != "admin":
        raise Forbidden("Only a store's admins can retrain its intent model.")
    trainer: StoreTrainer | None = getattr(request.app.state, "trainer", None)
    if trainer is None:
        raise Conflict("The AI agent is off on this server (PORTSIDE_AGENT=off): nothing to train.")
    return await trainer.start(agent.store_id)


@router.delete("/intents/{name}", status_code=204)
async def delete_intent(name: str, agent: AgentDep, svc: ServicesDep) -> Response:
    await intents.do_delete_intent(svc, agent, name=name)
    return Response(status_code=204)


@router.put("/conversations/{conversation_id}/messages/{event_id}/intent")
async def label_message(
    conversation_id: int, event_id: int, body: LabelBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await intents.do_label_message(
        svc,
        agent,
        conversation_id=conversation_id,
        event_id=event_id,
        intent=body.intent,
        catalogue=default_intents(),
    )


@router.get("/conversations/{conversation_id}/intents")
async def message_intents(
    conversation_id: int, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await intents.get_message_intents(svc, agent.store_id, conversation_id)
