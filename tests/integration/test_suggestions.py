"""Suggested replies over the real server: the store's knowledge for the shopper's last
message, in their language: from an agent's label, from what the bot understood, or
read by the AI agent's models after the bot has handed over."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.clients import WsClient, client_id, login, widget
from tests.support.factories import make_store, services_for
from tests.support.server import LiveServer

RETURNS = {
    "intents": ["returns_policy"],
    "title": {"en": "Returns", "es": "Devoluciones"},
    "text": {
        "en": "You can return anything within 45 days.",
        "es": "Puedes devolver cualquier artículo en 45 días.",
    },
}
SPANISH = {"context": {"language": "es-ES"}}


async def say(shopper: WsClient, text: str) -> dict[str, Any]:
    await shopper.send(type="message.send", client_id=client_id(), text=text)
    return await shopper.expect("ack")


async def suggestions(http: httpx.AsyncClient, conversation_id: int) -> dict[str, Any]:
    response = await http.get(f"/api/v1/conversations/{conversation_id}/suggestions")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_agents_label_picks_the_knowledge_when_the_ai_agent_is_off(
    server: LiveServer,
) -> None:
    async with services_for(server.database_url, server.data_dir) as svc:
        store = await make_store(svc, origin=server.origin)
        other = await make_store(svc, origin=server.origin, agents=1)
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    assert (await admin.put("/api/v1/knowledge/returns-window", json=RETURNS)).status_code == 200
    async with widget(server.ws_url, store.widget_key, store.origin, hello=SPANISH) as shopper:
        await shopper.expect("welcome")
        ack = await say(shopper, "¿puedo devolver un vestido?")
    conversation_id = int(ack["conversation_id"])

    # Nothing understood it yet: the message, no suggestion.
    found = await suggestions(agent, conversation_id)
    assert found["message"] == {
        "event_id": ack["event_id"],
        "seq": ack["seq"],
        "text": "¿puedo devolver un vestido?",
    }
    assert (found["intent"], found["source"], found["suggestions"]) == (None, None, [])

    label = await agent.put(
        f"/api/v1/conversations/{conversation_id}/messages/{ack['event_id']}/intent",
        json={"intent": "returns_policy"},
    )
    assert label.status_code == 200, label.text
    found = await suggestions(agent, conversation_id)
    assert (found["intent"], found["source"], found["language"]) == (
        "returns_policy",
        "label",
        "es",
    )
    assert found["suggestions"] == [
        {
            "id": "returns-window",
            "intent": "returns_policy",
            "language": "es",
            "in_shopper_language": True,
            "title": "Devoluciones",
            "text": "Puedes devolver cualquier artículo en 45 días.",
        }
    ]

    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    refused = await intruder.get(f"/api/v1/conversations/{conversation_id}/suggestions")
    assert refused.status_code == 404
    for http in (admin, agent, intruder):
        await http.aclose()


async def test_after_the_handoff_the_ai_agents_models_read_the_new_question(
    bot_server: LiveServer,
) -> None:
    async with services_for(bot_server.database_url, bot_server.data_dir) as svc:
        store = await make_store(svc, origin=bot_server.origin)
    admin = await login(bot_server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    await admin.put("/api/v1/knowledge/returns-window", json=RETURNS)
    async with widget(bot_server.ws_url, store.widget_key, store.origin, hello=SPANISH) as shopper:
        await shopper.expect("welcome")
        await say(shopper, "hola, ¿tienen envío a México?")
        await shopper.expect(
            "event", timeout=15, where=lambda f: f["event"]["actor"]["type"] == "bot"
        )
        await shopper.send(type="person.request")
        await shopper.expect(
            "event", where=lambda f: f["event"]["data"].get("to") in ("queued", "assigned")
        )
        # The bot no longer answers: nothing it understood of this one.
        ack = await say(shopper, "¿cuántos días tengo para devolver algo?")
    conversation_id = int(ack["conversation_id"])

    found = await suggestions(admin, conversation_id)
    assert found["message"]["event_id"] == ack["event_id"]
    assert (found["intent"], found["source"], found["language"]) == (
        "returns_policy",
        "model",
        "es",
    )
    assert [(s["id"], s["language"]) for s in found["suggestions"]] == [("returns-window", "es")]
    await admin.aclose()
