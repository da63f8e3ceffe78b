"""A store's knowledge over the REST API: admins write it, agents read it, other stores
never see it, and the AI agent answers with it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from portside.services.context import Services
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer

RETURNS = {
    "intents": ["returns_policy"],
    "title": {"en": "Returns", "es": "Devoluciones"},
    "text": {
        "en": "  You can return anything within 45 days.  ",
        "es": "Puedes devolver cualquier artículo en 45 días.",
    },
}


async def test_admins_write_agents_read_other_stores_see_nothing(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])

    put = await admin.put("/api/v1/knowledge/returns-window", json=RETURNS)
    assert put.status_code == 200
    assert put.json()["text"]["en"] == "You can return anything within 45 days."
    listed = (await agent.get("/api/v1/knowledge")).json()["entries"]
    assert [e["id"] for e in listed] == ["returns-window"]

    changed = {**RETURNS, "text": {"en": "Within 60 days now."}}
    await admin.put("/api/v1/knowledge/returns-window", json=changed)
    (entry,) = (await agent.get("/api/v1/knowledge")).json()["entries"]
    assert entry["text"] == {"en": "Within 60 days now."}

    refused = await agent.put("/api/v1/knowledge/returns-window", json=RETURNS)
    assert refused.status_code == 403
    assert (await agent.delete("/api/v1/knowledge/returns-window")).status_code == 403

    other = await make_store(svc, origin=server.origin, agents=1)
    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    assert (await intruder.get("/api/v1/knowledge")).json()["entries"] == []
    gone = await intruder.delete("/api/v1/knowledge/returns-window")
    assert gone.status_code == 404
    assert (await agent.get("/api/v1/knowledge")).json()["entries"] != []

    assert (await admin.delete("/api/v1/knowledge/returns-window")).status_code == 204
    assert (await agent.get("/api/v1/knowledge")).json()["entries"] == []
    for http in (admin, agent, intruder):
        await http.aclose()


@pytest.mark.parametrize(
    ("slug", "body", "complaint"),
    [
        ("Returns Window", RETURNS, "lowercase letters, digits and single hyphens"),
        ("returns", {**RETURNS, "intents": []}, "intents lists the 1 to 10"),
        ("returns", {**RETURNS, "intents": ["gossip"]}, "Unknown intents: 'gossip'"),
        ("returns", {**RETURNS, "text": {}}, "text maps language codes to text"),
        ("returns", {**RETURNS, "text": {"pt-BR": "x"}}, "'pt-BR' is not a language code"),
        ("returns", {**RETURNS, "text": {"xq": "x"}}, "'xq' is not a language"),
        ("returns", {**RETURNS, "title": {"en": "  "}}, "title['en'] must be non-empty"),
        ("returns", {**RETURNS, "text": {"en": "x" * 2001}}, "at most 2000 characters"),
    ],
)
async def test_bad_entries_are_refused_with_what_is_wrong(
    server: LiveServer, store: StoreFixture, slug: str, body: dict[str, Any], complaint: str
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    response = await admin.put(f"/api/v1/knowledge/{slug}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert complaint in response.json()["error"]["message"]
    assert (await admin.get("/api/v1/knowledge")).json()["entries"] == []
    await admin.aclose()


async def test_the_ai_agent_answers_with_the_stores_own_entry(bot_server: LiveServer) -> None:
    async with services_for(bot_server.database_url, bot_server.data_dir) as svc:
        store = await make_store(svc, origin=bot_server.origin)
    admin = await login(bot_server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    await admin.put("/api/v1/knowledge/returns-window", json=RETURNS)
    async with widget(bot_server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send",
            client_id=client_id(),
            text="¿cuántos días tengo para devolver algo?",
        )
        answer = await shopper.expect(
            "event",
            timeout=15,
            where=lambda f: f["event"]["actor"]["type"] == "bot",
        )
    assert answer["event"]["data"]["text"] == "Puedes devolver cualquier artículo en 45 días."
    await admin.aclose()


@pytest.mark.parametrize(
    ("slug", "body", "field"),
    [
        ("Returns Window", RETURNS, "id"),
        ("returns", {**RETURNS, "intents": ["gossip"]}, "intents"),
        ("returns", {**RETURNS, "title": {}}, "title"),
        ("returns", {**RETURNS, "text": {"en": "ok", "pt-BR": "x"}}, "text.pt-BR"),
        ("returns", {**RETURNS, "title": {"en": "Returns", "es": " "}}, "title.es"),
        ("returns", {**RETURNS, "text": {"en": "x" * 2001}}, "text.en"),
    ],
)
async def test_each_error_names_its_field_for_the_editor(
    server: LiveServer, store: StoreFixture, slug: str, body: dict[str, Any], field: str
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    error = (await admin.put(f"/api/v1/knowledge/{slug}", json=body)).json()["error"]
    assert error["details"] == [{"field": field, "problem": error["message"]}]
    await admin.aclose()


async def test_the_editor_offers_the_intent_catalogue(
    server: LiveServer, store: StoreFixture
) -> None:
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    intents = (await agent.get("/api/v1/intents")).json()["intents"]
    names = [i["name"] for i in intents]
    assert "returns_policy" in names
    assert len(names) == len(set(names))
    assert all(i["description"] and i["source"] == "catalogue" for i in intents)
    await agent.aclose()
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        assert (await anonymous.get("/api/v1/intents")).status_code == 401
