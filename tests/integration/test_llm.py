"""A store's own LLM over a real server: it rewords the bot's drafts when it can, and
the shopper gets the draft whenever it is slow, failing or inventing; what the shopper
typed reaches it without their personal data. The settings API that configures it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from portside.services.context import Services
from tests.support.clients import WsClient, client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.fake_llm import FakeLlm, fake_llm
from tests.support.server import LiveServer

SHOP = "Lotus Test Shop"
GREETING = f"Hi! I'm the {SHOP} assistant. How can I help you today?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as endpoint:
        yield endpoint


@pytest.fixture
async def shop(bot_server: LiveServer) -> StoreFixture:
    """A store of its own, so no other test's settings or knowledge reach it."""
    async with services_for(bot_server.database_url, bot_server.data_dir) as svc:
        return await make_store(svc, origin=bot_server.origin, name=SHOP)


@pytest.fixture
async def admin(bot_server: LiveServer, shop: StoreFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await login(bot_server.base_url, shop.agents[0]["email"], shop.agents[0]["password"])
    yield http
    await http.aclose()


async def use_llm(admin: httpx.AsyncClient, fake: FakeLlm, **more: Any) -> None:
    body = {
        "enabled": True,
        "base_url": fake.base_url,
        "model": "tiny-chat",
        "api_key": "sk-test-123",
        "timeout_ms": 1000,
        **more,
    }
    response = await admin.put("/api/v1/settings/llm", json=body)
    assert response.status_code == 200, response.text


async def ask(server: LiveServer, shop: StoreFixture, text: str) -> dict[str, Any]:
    """A new shopper says `text`; the bot's answer."""
    async with widget(server.ws_url, shop.widget_key, shop.origin) as shopper:
        await shopper.expect("welcome")
        return await _answer(shopper, text)


async def _answer(shopper: WsClient, text: str) -> dict[str, Any]:
    await shopper.send(type="message.send", client_id=client_id(), text=text)
    frame = await shopper.expect(
        "event",
        timeout=15,
        where=lambda f: (
            f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "bot"
        ),
    )
    event: dict[str, Any] = frame["event"]
    return event


async def test_the_reply_is_the_llms_rewording(
    bot_server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await use_llm(admin, fake)
    fake.answer = f"Hello, and welcome to {SHOP}! What can I do for you?"
    answer = await ask(bot_server, shop, "hi there!")
    assert answer["data"]["text"] == fake.answer
    assert answer["data"]["bot"]["intent"] == "greeting"
    assert answer["data"]["bot"]["phrased_by"] == "llm"
    assert "phrase_fallback" not in answer["data"]["bot"]
    (request,) = fake.requests
    assert request["model"] == "tiny-chat"
    assert GREETING in request["messages"][1]["content"]
    assert fake.headers[0]["authorization"] == "Bearer sk-test-123"


@pytest.mark.parametrize(
    ("told", "why"),
    [
        ({"delay": 5.0}, "timeout"),
        ({"answer": f"Welcome to {SHOP}! Today only: 20% off everything."}, "ungrounded"),
        ({"answer": "  "}, "ungrounded"),
        ({"status": 500}, "error"),
    ],
)
async def test_the_shopper_gets_the_draft_when_the_llm_fails(
    bot_server: LiveServer,
    shop: StoreFixture,
    admin: httpx.AsyncClient,
    fake: FakeLlm,
    told: dict[str, Any],
    why: str,
) -> None:
    await use_llm(admin, fake, timeout_ms=300)
    for name, value in told.items():
        setattr(fake, name, value)
    answer = await ask(bot_server, shop, "hi there!")
    assert len(fake.requests) == 1  # it was asked
    assert answer["data"]["text"] == GREETING
    assert answer["data"]["bot"]["phrased_by"] == "draft"
    assert answer["data"]["bot"]["phrase_fallback"] == why


async def test_personal_data_never_reaches_the_llm(
    bot_server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await use_llm(admin, fake)
    fake.answer = GREETING
    answer = await ask(
        bot_server,
        shop,
        "hello!! I'm ana.garcia@example.com, +34 612 345 678, Calle de Alcalá 42, "
        "card 4111 1111 1111 1111",
    )
    assert answer["data"]["bot"]["phrased_by"] == "llm", answer["data"]["bot"]
    sent = fake.sent_text()
    for secret in ("ana.garcia", "612 345 678", "Alcalá 42", "4111"):
        assert secret not in sent
    for placeholder in ("[email]", "[phone]", "[address]", "[card]"):
        assert placeholder in sent


async def test_asking_for_proof_is_never_reworded(
    bot_server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await use_llm(admin, fake)
    fake.answer = "Sure! What is your order number? Also your card number please."
    answer = await ask(bot_server, shop, "hi, where is my order??")
    assert answer["data"]["bot"]["flow"] == {"name": "order_status"}
    assert answer["data"]["bot"]["phrased_by"] == "draft"
    assert fake.requests == []


SHIPPING_DE = {
    "intents": ["shipping_info"],
    "title": {"de": "Versand"},
    "text": {"de": "Der Versand nach Japan kostet 12 € und dauert 5 bis 8 Tage."},
}


async def test_knowledge_in_another_language_is_translated_when_the_store_allows(
    bot_server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    assert (await admin.put("/api/v1/knowledge/shipping", json=SHIPPING_DE)).status_code == 200
    await use_llm(admin, fake, translate=True)
    fake.answer = "Shipping to Japan costs 12 € and takes 5 to 8 days."
    answer = await ask(bot_server, shop, "how much is shipping to japan and how long does it take?")
    assert answer["data"]["bot"]["intent"] == "shipping_info"
    assert answer["data"]["text"] == fake.answer
    assert answer["data"]["bot"]["translated_by"] == "llm"
    (request,) = fake.requests
    assert "German" in request["messages"][0]["content"]
    assert "English" in request["messages"][0]["content"]
    assert SHIPPING_DE["text"]["de"] in request["messages"][1]["content"]

    fake.answer = "Shipping to Japan costs 15 € and takes 5 to 8 days."  # a wrong price
    kept = await ask(bot_server, shop, "how much is shipping to japan and how long does it take?")
    assert kept["data"]["text"].startswith(SHIPPING_DE["text"]["de"])
    assert "only available in German" in kept["data"]["text"]
    assert kept["data"]["bot"]["translated_by"] == "draft"
    assert kept["data"]["bot"]["translate_fallback"] == "ungrounded"


async def test_without_translate_knowledge_in_another_language_is_said_as_it_is(
    bot_server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    assert (await admin.put("/api/v1/knowledge/shipping", json=SHIPPING_DE)).status_code == 200
    await use_llm(admin, fake)
    fake.answer = "Shipping to Japan costs 12 € and takes 5 to 8 days."
    answer = await ask(bot_server, shop, "how much is shipping to japan and how long does it take?")
    assert answer["data"]["text"].startswith(SHIPPING_DE["text"]["de"])
    assert "only available in German" in answer["data"]["text"]
    assert "translated_by" not in answer["data"]["bot"]
    assert fake.requests == []


async def test_a_disabled_llm_is_never_called(
    bot_server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await use_llm(admin, fake)
    await use_llm(admin, fake, enabled=False)
    answer = await ask(bot_server, shop, "hi there!")
    assert answer["data"]["text"] == GREETING
    assert "phrased_by" not in answer["data"]["bot"]
    assert fake.requests == []


# The settings API ------------------------------------------------------------------


async def test_settings_admins_write_agents_read_the_key_never_leaves(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    assert (await agent.get("/api/v1/settings/llm")).json() == {
        "enabled": False,
        "base_url": "",
        "model": "",
        "has_api_key": False,
        "timeout_ms": 2000,
        "translate": False,
    }
    body = {
        "enabled": True,
        "base_url": "https://llm.example/v1",
        "model": "m",
        "api_key": "sk-secret-1",
    }
    put = await admin.put("/api/v1/settings/llm", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["has_api_key"] is True
    read = await agent.get("/api/v1/settings/llm")
    assert read.json() == put.json()
    assert "sk-secret-1" not in put.text + read.text

    refused = await agent.put("/api/v1/settings/llm", json={"enabled": False})
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": "Only a store's admins can change its llm settings.",
    }

    # Without api_key the key stays; "" (or null) removes it.
    removed = await admin.put("/api/v1/settings/llm", json={**body, "api_key": None})
    assert removed.json()["has_api_key"] is False
    again = await admin.put("/api/v1/settings/llm", json={**body, "api_key": "sk-2"})
    assert again.json()["has_api_key"] is True
    body.pop("api_key")
    kept = await admin.put("/api/v1/settings/llm", json={**body, "timeout_ms": 800})
    assert kept.json()["has_api_key"] is True and kept.json()["timeout_ms"] == 800
    cleared = await admin.put("/api/v1/settings/llm", json={**body, "api_key": ""})
    assert cleared.json()["has_api_key"] is False

    handoff = await admin.put("/api/v1/settings/handoff", json={"refund_above": 150})
    assert handoff.json() == {"refund_above": 150}
    assert (await agent.get("/api/v1/settings/handoff")).json() == {"refund_above": 150}
    # One section does not touch another.
    assert (await agent.get("/api/v1/settings/llm")).json() == cleared.json()

    for missing in (
        await agent.get("/api/v1/settings/colours"),
        await admin.put("/api/v1/settings/colours", json={}),
    ):
        assert missing.status_code == 404
        assert "the sections are llm, handoff" in missing.json()["error"]["message"]

    other = await make_store(svc, origin=server.origin, agents=1)
    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    theirs = (await intruder.get("/api/v1/settings/llm")).json()
    assert theirs["enabled"] is False and theirs["base_url"] == ""
    assert (await intruder.get("/api/v1/settings/handoff")).json() == {"refund_above": None}
    await intruder.put("/api/v1/settings/llm", json={"enabled": False, "model": "theirs"})
    assert (await agent.get("/api/v1/settings/llm")).json()["model"] == "m"
    for http in (admin, agent, intruder):
        await http.aclose()


@pytest.mark.parametrize(
    ("section", "body", "field", "complaint"),
    [
        ("llm", {"enabled": True, "base_url": "ftp://x", "model": "m"}, "base_url", "http://"),
        ("llm", {"enabled": True, "model": "m"}, "base_url", "needs its base_url"),
        ("llm", {"enabled": True, "base_url": "http://x"}, "model", "name of its model"),
        ("llm", {"timeout_ms": 100}, "timeout_ms", "from 200 to 2500"),
        ("llm", {"timeout_ms": 5000}, "timeout_ms", "from 200 to 2500"),
        ("llm", {"enabled": "yes"}, "enabled", "true or false"),
        ("llm", {"api_key": "has spaces in it"}, "api_key", "no spaces"),
        ("llm", {"temperature": 1}, "temperature", "Unknown settings: temperature"),
        ("llm", ["enabled"], "body", "a JSON object"),
        ("handoff", {"refund_above": "100"}, "refund_above", "a number"),
        ("handoff", {"refund_above": -5}, "refund_above", "0 or more"),
    ],
)
async def test_wrong_settings_are_refused_naming_the_field(
    server: LiveServer, store: StoreFixture, section: str, body: Any, field: str, complaint: str
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    response = await admin.put(f"/api/v1/settings/{section}", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert complaint in error["message"]
    assert [d["field"] for d in error["details"]] == [field]
    # Nothing half-written.
    assert (await admin.get("/api/v1/settings/llm")).json()["enabled"] is False
    await admin.aclose()
