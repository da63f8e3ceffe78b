"""A store's own intents, labelled messages and retraining, over a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from portside.services.context import Services
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer

GIFT = {"name": "gift_wrapping", "description": "Shoppers who want their order gift-wrapped."}
GIFT_EXAMPLES = [
    ("can you gift wrap this for me?", "en"),
    ("do you offer gift wrapping", "en"),
    ("I'd like it wrapped as a present please", "en"),
    ("is gift packaging available", "en"),
    ("can you put it in a gift box with a ribbon", "en"),
    ("¿pueden envolverlo para regalo?", "es"),
    ("¿tienen papel de regalo?", "es"),
    ("quiero que venga envuelto para regalo", "es"),
    ("es un regalo, ¿lo pueden envolver?", "es"),
    ("¿ofrecen envoltura de regalo?", "es"),
    ("可以帮我包装成礼物吗", "zh"),
    ("有礼品包装吗", "zh"),
    ("这是送人的，能包一下吗", "zh"),
    ("需要礼盒包装", "zh"),
    ("可以加个蝴蝶结包装吗", "zh"),
]


async def people(server: LiveServer, store: StoreFixture) -> tuple[httpx.AsyncClient, ...]:
    """The store's admin and its (plain) agent, logged in."""
    return tuple(
        [await login(server.base_url, a["email"], a["password"]) for a in store.agents[:2]]
    )


async def shopper_says(server: LiveServer, store: StoreFixture, text: str) -> dict[str, Any]:
    """A shopper's message through the widget: its event."""
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text=text)
        frame = await shopper.expect(
            "event",
            where=lambda f: (
                f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "visitor"
            ),
        )
    event: dict[str, Any] = frame["event"]
    return event


async def test_admins_add_intents_and_examples_other_stores_see_none(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin, agent = await people(server, store)

    created = await admin.post("/api/v1/intents", json=GIFT)
    assert created.status_code == 201, created.text
    assert (await admin.post("/api/v1/intents", json=GIFT)).status_code == 409
    assert (await agent.post("/api/v1/intents", json={**GIFT, "name": "vip"})).status_code == 403
    listed = (await agent.get("/api/v1/intents")).json()["intents"]
    mine = [i for i in listed if i["source"] == "store"]
    assert mine == [{**GIFT, "source": "store", "examples": 0, "created_at": mine[0]["created_at"]}]
    assert any(i["name"] == "order_status" for i in listed)
    # The store's knowledge may answer its own intents.
    entry = {"intents": ["gift_wrapping"], "title": {"en": "Gifts"}, "text": {"en": "£3 a box."}}
    assert (await admin.put("/api/v1/knowledge/gift-wrap", json=entry)).status_code == 200

    example = {"text": " can you gift wrap it? ", "intent": "gift_wrapping", "language": "en"}
    added = await admin.post("/api/v1/intents/examples", json=example)
    assert added.status_code == 201, added.text
    assert added.json()["text"] == "can you gift wrap it?"
    assert added.json()["source"] == "api"
    also = {"text": "where's my parcel", "intent": "order_status"}
    assert (await admin.post("/api/v1/intents/examples", json=also)).status_code == 201
    assert (await agent.post("/api/v1/intents/examples", json=example)).status_code == 403
    examples = (await agent.get("/api/v1/intents/examples")).json()["examples"]
    assert [e["intent"] for e in examples] == ["gift_wrapping", "order_status"]
    wrapped = (await agent.get("/api/v1/intents/examples?intent=gift_wrapping")).json()
    assert len(wrapped["examples"]) == 1
    counted = (await agent.get("/api/v1/intents")).json()["intents"]
    assert [i["examples"] for i in counted if i["source"] == "store"] == [1]

    other = await make_store(svc, origin=server.origin, agents=1)
    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    theirs = (await intruder.get("/api/v1/intents")).json()["intents"]
    assert [i for i in theirs if i["source"] == "store"] == []
    assert (await intruder.get("/api/v1/intents/examples")).json()["examples"] == []
    refused = await intruder.post("/api/v1/intents/examples", json=example)
    assert refused.status_code == 400  # gift_wrapping is not an intent of that store
    assert (await intruder.delete("/api/v1/intents/gift_wrapping")).status_code == 404
    first = examples[0]["id"]
    assert (await intruder.delete(f"/api/v1/intents/examples/{first}")).status_code == 404
    assert (await intruder.get("/api/v1/intents/model")).json()["examples"] == 0

    assert (await admin.delete(f"/api/v1/intents/examples/{first}")).status_code == 204
    assert (await admin.delete(f"/api/v1/intents/examples/{first}")).status_code == 404
    await admin.post("/api/v1/intents/examples", json=example)
    # An intent goes with its examples.
    assert (await admin.delete("/api/v1/intents/gift_wrapping")).status_code == 204
    left = (await agent.get("/api/v1/intents/examples")).json()["examples"]
    assert [e["intent"] for e in left] == ["order_status"]
    for http in (admin, agent, intruder):
        await http.aclose()


@pytest.mark.parametrize(
    ("path", "body", "complaint"),
    [
        ("/api/v1/intents", {**GIFT, "name": "Gift Wrapping"}, "lowercase letters"),
        ("/api/v1/intents", {**GIFT, "name": "order_status"}, "intent of the catalogue"),
        ("/api/v1/intents", {"name": "vip"}, "needs a description"),
        ("/api/v1/intents/examples", {"text": "", "intent": "greeting"}, "needs text"),
        ("/api/v1/intents/examples", {"text": "x" * 501, "intent": "greeting"}, "at most 500"),
        ("/api/v1/intents/examples", {"text": "hi", "intent": "gossip"}, "Unknown intent"),
        (
            "/api/v1/intents/examples",
            {"text": "hi", "intent": "greeting", "language": "xq"},
            "'xq' is not a language",
        ),
    ],
)
async def test_bad_intents_and_examples_are_refused_with_what_is_wrong(
    server: LiveServer, store: StoreFixture, path: str, body: dict[str, Any], complaint: str
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    response = await admin.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert complaint in response.json()["error"]["message"]
    assert response.json()["error"]["details"][0]["field"] in (
        "name",
        "description",
        "text",
        "intent",
        "language",
    )
    await admin.aclose()


async def test_any_agent_labels_a_shoppers_message_and_a_new_label_replaces_it(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin, agent = await people(server, store)
    await admin.post("/api/v1/intents", json=GIFT)
    message = await shopper_says(server, store, "could you wrap it up as a present?")
    conversation, event = message["conversation_id"], message["id"]
    path = f"/api/v1/conversations/{conversation}/messages/{event}/intent"

    first = await agent.put(path, json={"intent": "product_question"})
    assert first.status_code == 200, first.text
    assert first.json()["source"] == "agent"
    assert first.json()["labelled_by"] == store.agents[1]["id"]
    corrected = await agent.put(path, json={"intent": "gift_wrapping"})
    assert corrected.status_code == 200

    examples = (await admin.get("/api/v1/intents/examples")).json()["examples"]
    assert [(e["text"], e["intent"], e["event_id"]) for e in examples] == [
        ("could you wrap it up as a present?", "gift_wrapping", event)
    ]
    shown = (await agent.get(f"/api/v1/conversations/{conversation}/intents")).json()
    assert shown["messages"][str(event)]["label"] == "gift_wrapping"

    unknown = await agent.put(path, json={"intent": "gossip"})
    assert unknown.status_code == 400
    assert "Unknown intent 'gossip'" in unknown.json()["error"]["message"]
    # The conversation's first event is not a shopper's message.
    events = (await agent.get(f"/api/v1/conversations/{conversation}/events")).json()["events"]
    started = next(e for e in events if e["type"] == "conversation.created")
    not_a_message = await agent.put(
        f"/api/v1/conversations/{conversation}/messages/{started['id']}/intent",
        json={"intent": "greeting"},
    )
    assert not_a_message.status_code == 400
    assert "Only a shopper's message" in not_a_message.json()["error"]["message"]
    missing = f"/api/v1/conversations/{conversation}/messages/{event + 10_000}/intent"
    assert (await agent.put(missing, json={"intent": "greeting"})).status_code == 404

    other = await make_store(svc, origin=server.origin, agents=1)
    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    assert (await intruder.put(path, json={"intent": "greeting"})).status_code == 404
    theirs = await intruder.get(f"/api/v1/conversations/{conversation}/intents")
    assert theirs.status_code == 404
    assert (await admin.get("/api/v1/intents/examples")).json()["examples"][0]["intent"] == (
        "gift_wrapping"
    )
    for http in (admin, agent, intruder):
        await http.aclose()


async def test_retraining_needs_the_ai_agent_and_an_admin(
    server: LiveServer, store: StoreFixture
) -> None:
    admin, agent = await people(server, store)
    assert (await agent.post("/api/v1/intents/retrain")).status_code == 403
    off = await admin.post("/api/v1/intents/retrain")
    assert off.status_code == 409
    assert "PORTSIDE_AGENT=off" in off.json()["error"]["message"]
    state = (await admin.get("/api/v1/intents/model")).json()
    assert (state["status"], state["version"]) == ("idle", 0)
    for http in (admin, agent):
        await http.aclose()


async def wait_for_model(http: httpx.AsyncClient) -> dict[str, Any]:
    """The model's state once no training of it is under way."""
    for _ in range(600):
        state: dict[str, Any] = (await http.get("/api/v1/intents/model")).json()
        if state["status"] != "training":
            return state
        await asyncio.sleep(0.5)
    raise AssertionError(f"still training: {state}")


async def test_a_retrained_store_model_answers_with_the_stores_own_intent(
    bot_server: LiveServer,
) -> None:
    async with services_for(bot_server.database_url, bot_server.data_dir) as svc:
        store = await make_store(svc, origin=bot_server.origin)
        other = await make_store(svc, origin=bot_server.origin, agents=1)
    admin = await login(bot_server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    intruder = await login(
        bot_server.base_url, other.agents[0]["email"], other.agents[0]["password"]
    )
    await admin.post("/api/v1/intents", json=GIFT)
    for text, language in GIFT_EXAMPLES:
        example = {"text": text, "intent": "gift_wrapping", "language": language}
        assert (await admin.post("/api/v1/intents/examples", json=example)).status_code == 201
    # The other store labels a few messages of catalogue intents, and that is all it has.
    too_few = await intruder.post("/api/v1/intents/retrain")
    assert too_few.status_code == 400
    assert "at least 5 labelled examples" in too_few.json()["error"]["message"]
    for text in ["where is my parcel", "has it shipped", "tracking please", "my order?", "status"]:
        example = {"text": text, "intent": "order_status"}
        assert (await intruder.post("/api/v1/intents/examples", json=example)).status_code == 201

    started = await admin.post("/api/v1/intents/retrain")
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "training"
    assert (await admin.post("/api/v1/intents/retrain")).status_code == 409
    assert (await intruder.post("/api/v1/intents/retrain")).status_code == 202

    state = await wait_for_model(admin)
    assert state["status"] == "idle", state
    assert state["version"] == 1
    assert state["n_examples"] == 15
    assert state["accuracy_before"] == 0.0
    assert state["accuracy_after"] >= 0.6
    assert set(state["per_intent"]) == {"gift_wrapping"}
    theirs = await wait_for_model(intruder)
    assert (theirs["status"], theirs["n_examples"]) == ("idle", 5)
    assert set(theirs["per_intent"]) == {"order_status"}

    async with widget(bot_server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send",
            client_id=client_id(),
            text="could you wrap it as a gift for my mom?",
        )
        answer = await shopper.expect(
            "event", timeout=20, where=lambda f: f["event"]["actor"]["type"] == "bot"
        )
    assert answer["event"]["data"]["bot"]["intent"] == "gift_wrapping"
    # No entry of the store's knowledge answers it: the bot says so and offers a person.
    assert "gift wrapping" in answer["event"]["data"]["text"]

    # Without the intent, the next model does not know it, and the bot uses that one.
    assert (await admin.delete("/api/v1/intents/gift_wrapping")).status_code == 204
    for text in ["where is my parcel", "has it shipped", "tracking please", "my order?", "status"]:
        example = {"text": text, "intent": "order_status"}
        assert (await admin.post("/api/v1/intents/examples", json=example)).status_code == 201
    assert (await admin.post("/api/v1/intents/retrain")).status_code == 202
    state = await wait_for_model(admin)
    assert (state["status"], state["version"], state["n_examples"]) == ("idle", 2, 5)
    async with widget(bot_server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send",
            client_id=client_id(),
            text="could you wrap it as a gift for my mom?",
        )
        answer = await shopper.expect(
            "event", timeout=20, where=lambda f: f["event"]["actor"]["type"] == "bot"
        )
    assert answer["event"]["data"]["bot"]["intent"] != "gift_wrapping"

    # The other store's model never learnt it.
    async with widget(bot_server.ws_url, other.widget_key, other.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send",
            client_id=client_id(),
            text="could you wrap it as a gift for my mom?",
        )
        answer = await shopper.expect(
            "event", timeout=20, where=lambda f: f["event"]["actor"]["type"] == "bot"
        )
    assert answer["event"]["data"]["bot"]["intent"] != "gift_wrapping"
    for http in (admin, intruder):
        await http.aclose()
