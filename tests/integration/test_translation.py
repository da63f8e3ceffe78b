"""Two-way translation over a real server, with the fake OpenAI-compatible endpoint as
the store's LLM: a Chinese-speaking agent answers a German shopper, who reads German;
nothing untranslated is ever stored as translated; a shopper's message is translated
for agents once and reused; personal data never reaches the LLM."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from portside.storage import store_store
from tests.support import media_files
from tests.support.clients import WsClient, client_id, console, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.fake_llm import FakeLlm, fake_llm
from tests.support.server import LiveServer

GERMAN = {"language": "de-DE", "timezone": "Europe/Berlin"}
ZH_REPLY = "您的订单 LP-10023 已经发货了，运费是 12.50 欧元。"
DE_REPLY = "Ihre Bestellung LP-10023 wurde versandt, der Versand kostet 12,50 €."


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as endpoint:
        yield endpoint


@pytest.fixture
async def shop(server: LiveServer) -> StoreFixture:
    """A store whose first agent (an admin) speaks Chinese, its second English."""
    async with services_for(server.database_url, server.data_dir) as svc:
        shop = await make_store(svc, origin=server.origin)
        languages = [["zh"], ["en", "de"]]
        for agent, spoken in zip(shop.agents, languages, strict=True):
            await svc.db.write(
                lambda conn, a=agent, s=spoken: store_store.update_agent(conn, a["id"], languages=s)
            )
        return shop


@pytest.fixture
async def admin(server: LiveServer, shop: StoreFixture) -> AsyncIterator[httpx.AsyncClient]:
    http = await login(server.base_url, shop.agents[0]["email"], shop.agents[0]["password"])
    yield http
    await http.aclose()


async def translate_with_llm(
    admin: httpx.AsyncClient, fake: FakeLlm, timeout_ms: int = 5000
) -> None:
    llm = {"enabled": True, "base_url": fake.base_url, "model": "tiny-chat", "api_key": "sk-t"}
    assert (await admin.put("/api/v1/settings/llm", json=llm)).status_code == 200
    body = {"provider": "llm", "timeout_ms": timeout_ms}
    response = await admin.put("/api/v1/settings/translation", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == body


async def german_shopper_writes(shopper: WsClient, text: str) -> dict[str, Any]:
    await shopper.expect("welcome")
    await shopper.send(type="message.send", client_id=client_id(), text=text, ref="s")
    ack: dict[str, Any] = await shopper.expect("ack", where=lambda f: f.get("ref") == "s")
    return ack


async def reply(desk: WsClient, conversation_id: int, text: str, **more: Any) -> dict[str, Any]:
    """The agent's send from the console, and the server's answer (ack or error)."""
    ref = client_id()
    await desk.send(
        type="message.send",
        conversation_id=conversation_id,
        client_id=ref,
        text=text,
        ref=ref,
        **more,
    )
    for i, frame in enumerate(desk.backlog):
        if frame["type"] in ("ack", "error") and frame.get("ref") == ref:
            return desk.backlog.pop(i)
    while True:
        frame = json.loads(await asyncio.wait_for(desk.ws.recv(), 15))
        if frame["type"] in ("ack", "error") and frame.get("ref") == ref:
            return frame
        if frame["type"] != "ping":
            desk.backlog.append(frame)


def from_agent(frame: dict[str, Any]) -> bool:
    return frame["type"] == "event" and frame["event"]["actor"]["type"] == "agent"


async def events_of(http: httpx.AsyncClient, conversation_id: int) -> list[dict[str, Any]]:
    response = await http.get(f"/api/v1/conversations/{conversation_id}/events")
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def test_a_chinese_agents_reply_reaches_a_german_shopper_in_german(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await translate_with_llm(admin, fake)
    fake.answer = DE_REPLY
    async with (
        console(server.ws_url, admin) as desk,
        widget(server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}) as shopper,
    ):
        await desk.expect("welcome")
        ack = await german_shopper_writes(shopper, "Hallo, wo ist meine Bestellung LP-10023?")
        conversation_id = ack["conversation_id"]
        status = (await admin.get(f"/api/v1/conversations/{conversation_id}/translation")).json()
        assert status == {
            "shopper_language": "de",
            "agent_language": "zh",
            "agent_languages": ["zh"],
            "needed": True,
            "provider": "llm",
            "to_shopper": True,
            "to_agent": True,
            "problem": None,
        }

        answer = await reply(desk, conversation_id, ZH_REPLY, translate=True)
        assert answer["type"] == "ack", answer
        received = await shopper.expect(
            "event",
            timeout=10,
            where=lambda f: (
                f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "agent"
            ),
        )
        data = received["event"]["data"]
        assert data["text"] == DE_REPLY
        assert data["original"] == {"text": ZH_REPLY, "language": "zh"}
        assert data["translation"] == {"from": "zh", "to": "de", "provider": "llm"}

        (request,) = fake.requests
        assert request["model"] == "tiny-chat"
        system, user = request["messages"]
        assert "from Chinese into German" in system["content"]
        assert user["content"] == ZH_REPLY


async def test_a_retried_send_is_translated_once(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await translate_with_llm(admin, fake)
    fake.answer = DE_REPLY
    async with widget(
        server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}
    ) as shopper:
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
    body = {"client_id": client_id(), "text": ZH_REPLY, "translate": True}
    path = f"/api/v1/conversations/{conversation_id}/messages"
    first = await admin.post(path, json=body)
    assert first.status_code == 201, first.text
    second = await admin.post(path, json=body)
    assert second.status_code == 200
    assert second.json() == {"event": first.json()["event"], "duplicate": True}
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("told", "reason"),
    [
        ({"delay": 3.0}, "timeout"),
        ({"answer": "Ihre Bestellung LP-10023 kostet 15,00 €."}, "refused"),  # a wrong price
        ({"answer": "Ihre Bestellung wurde versandt, 12,50 €."}, "refused"),  # no order
        ({"answer": ZH_REPLY}, "refused"),  # handed back untranslated
        ({"status": 500}, "failed"),
    ],
)
async def test_nothing_is_sent_when_the_translation_fails(
    server: LiveServer,
    shop: StoreFixture,
    admin: httpx.AsyncClient,
    fake: FakeLlm,
    told: dict[str, Any],
    reason: str,
) -> None:
    await translate_with_llm(admin, fake, timeout_ms=1000)
    for name, value in told.items():
        setattr(fake, name, value)
    async with widget(
        server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}
    ) as shopper:
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
        before = await events_of(admin, conversation_id)
        path = f"/api/v1/conversations/{conversation_id}/messages"
        body = {"client_id": client_id(), "text": ZH_REPLY, "translate": True}
        response = await admin.post(path, json=body)
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "translation_unavailable"
        assert error["details"] == {"from": "zh", "to": "de", "reason": reason}
        assert "Chinese (zh) to German (de)" in error["message"]
        assert "Nothing was sent" in error["message"]
        assert await events_of(admin, conversation_id) == before
        assert len(fake.requests) == 1
        assert not [f for f in await shopper.quiet(0.3) if from_agent(f)]

        # The agent may send it as written, on purpose: the same client_id now stores it.
        response = await admin.post(path, json={**body, "translate": False})
        assert response.status_code == 201
        assert response.json()["event"]["data"]["text"] == ZH_REPLY
        assert "original" not in response.json()["event"]["data"]


async def test_without_a_translator_nothing_is_sent_and_the_pair_is_named(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient
) -> None:
    async with (
        console(server.ws_url, admin) as desk,
        widget(server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}) as shopper,
    ):
        await desk.expect("welcome")
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
        before = await events_of(admin, conversation_id)
        answer = await reply(desk, conversation_id, ZH_REPLY, translate=True)
        assert answer["type"] == "error"
        assert answer["code"] == "translation_unavailable"
        assert "Chinese (zh) to German (de)" in answer["message"]
        assert "no translator is set up for this store" in answer["message"]
        assert await events_of(admin, conversation_id) == before
        assert not [f for f in await shopper.quiet(0.3) if from_agent(f)]

    status = (await admin.get(f"/api/v1/conversations/{conversation_id}/translation")).json()
    assert status["needed"] is True
    assert status["to_shopper"] is status["to_agent"] is False
    assert "no translator is set up" in status["problem"]


async def test_argos_without_the_package_says_what_the_operator_must_do(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient
) -> None:
    body = {"provider": "argos"}
    assert (await admin.put("/api/v1/settings/translation", json=body)).status_code == 200
    status = (await admin.get("/api/v1/translation")).json()
    assert status["provider"] == "argos"
    assert status["ready"] is False
    assert "PORTSIDE_ARGOS_PACKAGES" in status["problem"]
    assert status["agent_languages"] == ["zh"]


async def test_a_shoppers_message_is_translated_for_agents_once_and_reused(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await translate_with_llm(admin, fake)
    fake.answer = "你好，我的订单 LP-10023 在哪里？我的邮箱是 [email]。"
    colleague = await login(server.base_url, shop.agents[1]["email"], shop.agents[1]["password"])
    async with (
        console(server.ws_url, admin) as desk,
        widget(server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}) as shopper,
    ):
        await desk.expect("welcome")
        ack = await german_shopper_writes(
            shopper, "Hallo, wo ist meine Bestellung LP-10023? Meine E-Mail ist anna@example.de."
        )
        conversation_id, event_id = ack["conversation_id"], ack["event_id"]
        await desk.send(type="follow", conversation_id=conversation_id)
        path = f"/api/v1/conversations/{conversation_id}/events/{event_id}/translations"

        first = await admin.post(path)
        assert first.status_code == 201, first.text
        translated = first.json()["event"]
        assert translated["type"] == "message.translated"
        assert translated["data"] == {
            "event_id": event_id,
            "from": "de",
            "to": "zh",
            "text": "你好，我的订单 LP-10023 在哪里？我的邮箱是 anna@example.de。",
            "provider": "llm",
        }
        live = await desk.expect(
            "event", where=lambda f: f["event"]["type"] == "message.translated"
        )
        assert live["event"] == translated

        # Another agent, or a reload: the same translation, not asked of the LLM again.
        again = await admin.post(path, json={"language": "zh"})
        assert again.status_code == 200
        assert again.json() == {"event": translated, "reused": True}
        assert len(fake.requests) == 1
        # Personal data was redacted before it left.
        assert "anna@example.de" not in fake.sent_text()
        assert "[email]" in fake.sent_text()

        # The English-speaking colleague gets their own translation.
        fake.answer = "Hello, where is my order LP-10023? My email is [email]."
        english = await colleague.post(path)
        assert english.status_code == 201
        assert english.json()["event"]["data"]["to"] == "en"
        assert len(fake.requests) == 2

        # The shopper never sees translations meant for agents.
        await shopper.send(type="message.send", client_id=client_id(), text="Danke", ref="t")
        await shopper.expect("ack", where=lambda f: f.get("ref") == "t")
        seen = [f["event"]["type"] for f in await shopper.quiet(0.3) if f["type"] == "event"]
        assert "message.translated" not in seen
        kinds = [e["type"] for e in await events_of(admin, conversation_id)]
        assert kinds.count("message.translated") == 2
    await colleague.aclose()


async def test_personal_data_in_a_reply_never_reaches_the_llm(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await translate_with_llm(admin, fake)
    fake.answer = "Bitte senden Sie die Fotos an [email] oder rufen Sie [phone] an."
    async with widget(
        server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}
    ) as shopper:
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
    response = await admin.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={
            "client_id": client_id(),
            "text": "请把照片发到 returns@shop.example 或者打电话 +49 30 1234 5678。",
            "translate": True,
        },
    )
    assert response.status_code == 201, response.text
    sent = fake.sent_text()
    assert "returns@shop.example" not in sent and "1234 5678" not in sent
    assert "[email]" in sent and "[phone]" in sent
    assert response.json()["event"]["data"]["text"] == (
        "Bitte senden Sie die Fotos an returns@shop.example oder rufen Sie +49 30 1234 5678 an."
    )


async def test_a_note_is_never_translated(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient
) -> None:
    async with widget(
        server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}
    ) as shopper:
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
    response = await admin.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        json={"client_id": client_id(), "text": "备注", "translate": True},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_translation_settings_are_checked(admin: httpx.AsyncClient) -> None:
    response = await admin.put("/api/v1/settings/translation", json={"provider": "deepl"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "provider"
    response = await admin.put("/api/v1/settings/translation", json={"timeout_ms": 60_000})
    assert response.json()["error"]["details"][0]["field"] == "timeout_ms"
    assert (await admin.get("/api/v1/settings/translation")).json() == {
        "provider": "off",
        "timeout_ms": 8000,
    }


def agent_message(frame: dict[str, Any]) -> bool:
    return from_agent(frame) and frame["event"]["type"] == "message.created"


async def agent_upload(admin: httpx.AsyncClient, data: bytes, name: str) -> dict[str, Any]:
    response = await admin.post("/api/v1/uploads", content=data, headers={"X-Filename": name})
    assert response.status_code == 201, response.text
    attachment: dict[str, Any] = response.json()
    return attachment


async def test_a_translated_reply_carries_its_attachments_as_they_are(
    server: LiveServer, shop: StoreFixture, admin: httpx.AsyncClient, fake: FakeLlm
) -> None:
    await translate_with_llm(admin, fake)
    fake.answer = DE_REPLY
    photo = await agent_upload(admin, media_files.png(600, 400), "etikett.png")
    label = await agent_upload(admin, media_files.pdf(), "label.pdf")
    async with (
        console(server.ws_url, admin) as desk,
        widget(server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}) as shopper,
    ):
        await desk.expect("welcome")
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
        answer = await reply(
            desk, conversation_id, ZH_REPLY, translate=True, attachments=[photo["id"], label["id"]]
        )
        assert answer["type"] == "ack", answer
        received = await shopper.expect("event", timeout=10, where=agent_message)
    data = received["event"]["data"]
    # The text is translated; the attachments go as they were uploaded, names and all.
    assert data["text"] == DE_REPLY
    assert data["original"] == {"text": ZH_REPLY, "language": "zh"}
    assert [(a["id"], a["name"], a["kind"]) for a in data["attachments"]] == [
        (photo["id"], "etikett.png", "image"),
        (label["id"], "label.pdf", "file"),
    ]
    # Only the text reached the LLM: no file, no file name.
    assert len(fake.requests) == 1
    sent = json.dumps(fake.requests[0])
    assert "etikett" not in sent and "label.pdf" not in sent


@pytest.mark.parametrize("translator", [True, False])
async def test_a_reply_of_attachments_only_goes_with_translation_on(
    server: LiveServer,
    shop: StoreFixture,
    admin: httpx.AsyncClient,
    fake: FakeLlm,
    translator: bool,
) -> None:
    """Nothing to translate: it goes as it is, whether or not a translator is set up."""
    if translator:
        await translate_with_llm(admin, fake)
    photo = await agent_upload(admin, media_files.png(), "seam.png")
    async with (
        console(server.ws_url, admin) as desk,
        widget(server.ws_url, shop.widget_key, shop.origin, hello={"context": GERMAN}) as shopper,
    ):
        await desk.expect("welcome")
        conversation_id = (await german_shopper_writes(shopper, "Hallo?"))["conversation_id"]
        answer = await reply(desk, conversation_id, "", translate=True, attachments=[photo["id"]])
        assert answer["type"] == "ack", answer
        received = await shopper.expect("event", timeout=10, where=agent_message)
    data = received["event"]["data"]
    assert data["text"] == ""
    assert [a["id"] for a in data["attachments"]] == [photo["id"]]
    assert "original" not in data and "translation" not in data
    assert fake.requests == []

    # Over the REST API as well.
    another = await agent_upload(admin, media_files.png(), "back.png")
    path = f"/api/v1/conversations/{conversation_id}/messages"
    body = {
        "client_id": client_id(),
        "text": "  ",
        "translate": True,
        "attachments": [another["id"]],
    }
    response = await admin.post(path, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["event"]["data"]["attachments"][0]["id"] == another["id"]
    assert fake.requests == []
