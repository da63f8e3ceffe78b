"""Voice notes and photos as the AI agent hears and sees them, over a real server: real
uploads (a voice note spoken by espeak-ng, photos made with Pillow), the store's speech
and vision providers played by a small OpenAI-compatible server the test starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from portside.agent.replies import default_replies
from portside.services.context import Services
from portside.services.demo import DEMO_STORE_KEY, do_seed_demo
from portside.services.media_settings import check_speech, check_vision
from portside.storage import case_store, store_store
from tests.integration.test_bot import SHIRT, agents_view, ask, context
from tests.support import media_files
from tests.support.clients import WsClient, client_id, widget
from tests.support.factories import open_teams_around_the_clock, services_for
from tests.support.fake_media_ai import FakeMediaAi, fake_media_ai
from tests.support.server import LiveServer
from tests.support.voice import spoken_wav


@pytest.fixture
async def bot_svc(bot_server: LiveServer) -> AsyncIterator[Services]:
    async with services_for(bot_server.database_url, bot_server.data_dir) as services:
        yield services


@pytest.fixture
async def demo(bot_svc: Services, bot_server: LiveServer) -> AsyncIterator[int]:
    """The demo store's id; its speech and vision settings are cleared after the test."""
    await do_seed_demo(bot_svc, origins=[bot_server.origin])
    await open_teams_around_the_clock(bot_svc, DEMO_STORE_KEY)
    store = await bot_svc.db.read(lambda conn: store_store.find_store_by_key(conn, DEMO_STORE_KEY))
    assert store is not None
    await _configure(bot_svc, store.id, speech=None, vision=None)
    yield int(store.id)
    await _configure(bot_svc, store.id, speech=None, vision=None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeMediaAi]:
    async with fake_media_ai() as endpoint:
        yield endpoint


async def _configure(
    svc: Services, store_id: int, *, speech: dict[str, Any] | None, vision: dict[str, Any] | None
) -> None:
    def write(conn: Any) -> None:
        store_store.write_settings_section(conn, store_id, "speech", check_speech(speech or {}, {}))
        store_store.write_settings_section(conn, store_id, "vision", check_vision(vision or {}, {}))

    await svc.db.write(write)


def _endpoint(fake: FakeMediaAi, **more: Any) -> dict[str, Any]:
    return {"enabled": True, "base_url": fake.base_url, "model": "m-1", "timeout_ms": 5000, **more}


async def _upload(server: LiveServer, token: str, data: bytes, name: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        response = await http.post(
            f"/api/v1/uploads?store={DEMO_STORE_KEY}",
            content=data,
            headers={
                "Authorization": f"Bearer {token}",
                "Origin": server.origin,
                "X-Filename": name,
            },
        )
    assert response.status_code == 201, response.text
    attachment: dict[str, Any] = response.json()
    return attachment


async def _send(
    server: LiveServer, shopper: WsClient, token: str, data: bytes, name: str, text: str = ""
) -> dict[str, Any]:
    """Upload a file and send it with `text`; the bot's answer."""
    attachment = await _upload(server, token, data, name)
    await shopper.send(
        type="message.send", client_id=client_id(), text=text, attachments=[attachment["id"]]
    )
    await shopper.expect("ack")
    frame = await shopper.expect(
        "event",
        timeout=20,
        where=lambda f: (
            f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "bot"
        ),
    )
    event: dict[str, Any] = frame["event"]
    event["attachment"] = attachment
    return event


async def test_a_voice_note_is_transcribed_and_answered_in_its_language(
    bot_svc: Services, bot_server: LiveServer, demo: int, fake: FakeMediaAi
) -> None:
    await _configure(bot_svc, demo, speech=_endpoint(fake), vision=None)
    said = "oye, ¿esta camisa se puede lavar en lavadora?"
    fake.transcript, fake.language = said, "spanish"
    hello = {"context": context(SHIRT, "es-MX")}
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin, hello=hello) as shopper:
        welcome = await shopper.expect("welcome")
        answer = await _send(
            bot_server, shopper, welcome["visitor"]["token"], spoken_wav(said, "es"), "nota.wav"
        )
    assert answer["data"]["bot"]["intent"] == "product_care"
    assert answer["data"]["bot"]["language"] == "es"
    # What the provider got is the voice note as stored: AAC in MP4, real sound.
    sent = fake.transcriptions[-1]
    assert sent["file_type"] == "audio/mp4"
    assert sent["seconds"] > 1
    assert (sent["language"], sent["model"]) == ("es", "m-1")
    events = await agents_view(bot_server, answer["conversation_id"])
    transcribed = next(e for e in events if e["type"] == "attachment.transcribed")
    assert transcribed["data"]["attachment_id"] == answer["attachment"]["id"]
    assert (transcribed["data"]["text"], transcribed["data"]["language"]) == (said, "es")


@pytest.mark.parametrize("configured", [False, True])
async def test_a_voice_note_not_transcribed_goes_to_a_person_who_is_told(
    bot_svc: Services, bot_server: LiveServer, demo: int, fake: FakeMediaAi, configured: bool
) -> None:
    if configured:
        fake.status = 503  # a provider that fails is as good as none
        await _configure(bot_svc, demo, speech=_endpoint(fake), vision=None)
    hello = {"context": context(SHIRT, "pt-BR")}
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin, hello=hello) as shopper:
        welcome = await shopper.expect("welcome")
        answer = await _send(
            bot_server, shopper, welcome["visitor"]["token"], spoken_wav("olá", "pt"), "nota.wav"
        )
        handoff = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
    assert answer["data"]["text"].startswith("Não consegui ouvir sua mensagem de voz")
    assert answer["data"]["bot"]["voice_not_transcribed"] is True
    assert handoff["event"]["data"]["reason"] == "voice_not_transcribed"
    events = await agents_view(bot_server, answer["conversation_id"])
    packet = next(e for e in events if e["type"] == "conversation.handoff_context")
    assert packet["data"]["reason"] == "voice_not_transcribed"
    assert packet["data"]["voice_note"]["attachment_id"] == answer["attachment"]["id"]
    assert packet["data"]["voice_note"]["transcribed"] is False
    why = "answered 503" if configured else "no speech-to-text provider"
    assert why in packet["data"]["voice_note"]["why"]
    assert "transcribed" in packet["data"]["summary"]
    assert len(fake.transcriptions) == (1 if configured else 0)


async def test_a_photo_saying_it_arrived_like_this_starts_a_return(
    bot_server: LiveServer, demo: int, fake: FakeMediaAi
) -> None:
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        welcome = await shopper.expect("welcome")
        token = welcome["visitor"]["token"]
        photo = media_files.png()
        answer = await _send(bot_server, shopper, token, photo, "p.png", "it arrived like this")
        spanish = await _send(bot_server, shopper, token, photo, "p.png", "llegó roto")
    assert answer["data"]["bot"]["intent"] == "return_request"
    assert answer["data"]["bot"]["flow"]["name"] == "return_request"
    assert "order number" in answer["data"]["text"]
    assert spanish["data"]["bot"]["flow"]["name"] == "return_request"
    assert fake.visions == []  # no vision provider: the caption is enough


async def test_photos_in_a_return_flow_are_the_cases_evidence(
    bot_svc: Services, bot_server: LiveServer, demo: int
) -> None:
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        welcome = await shopper.expect("welcome")
        token = welcome["visitor"]["token"]
        await ask(shopper, "hola, quiero devolver la camisa del pedido #10233")
        await ask(shopper, "150-0001")
        kept = await _send(bot_server, shopper, token, media_files.png(), "a.png")
        resolution = await ask(shopper, "llegó dañada")
        opened = await ask(shopper, "prefiero el reembolso")
        await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
        # Sent once the case is open (a person has the conversation): added to it too.
        later = await _upload(bot_server, token, media_files.jpeg_with_gps(), "b.jpg")
        await shopper.send(
            type="message.send", client_id=client_id(), text="", attachments=[later["id"]]
        )
        await shopper.expect("ack")
    assert kept["data"]["text"] == "Gracias, he añadido la foto a tu solicitud de devolución."
    assert kept["data"]["bot"]["flow"]["step"] == "reason"
    assert "reembolso" in resolution["data"]["text"]
    case_id = opened["data"]["bot"]["case_id"]
    case = await bot_svc.db.read(lambda conn: case_store.find_case(conn, demo, case_id))
    assert case is not None
    assert case.data["photos"][0] == kept["attachment"]["id"]
    assert case.data["reason"] == "damaged"
    assert case.data["order"] == "LP10233"

    async def photos() -> list[int]:
        row = await bot_svc.db.read(lambda conn: case_store.find_case(conn, demo, case_id))
        return list(row.data["photos"]) if row is not None else []

    await _eventually(photos, [kept["attachment"]["id"], later["id"]])
    # The console's case card (GET /api/v1/cases/{id}) shows them by attachment id.
    http = await _agent(bot_server)
    card = (await http.get(f"/api/v1/cases/{case_id}")).json()
    await http.aclose()
    assert card["data"]["photos"] == [kept["attachment"]["id"], later["id"]]


async def test_with_a_vision_provider_the_photo_is_described_and_its_label_used(
    bot_svc: Services, bot_server: LiveServer, demo: int, fake: FakeMediaAi
) -> None:
    await _configure(bot_svc, demo, speech=None, vision=_endpoint(fake))
    fake.description, fake.label = "A linen shirt with a torn seam at the shoulder.", "damaged_item"
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        welcome = await shopper.expect("welcome")
        answer = await _send(
            bot_server, shopper, welcome["visitor"]["token"], media_files.png(), "x.png"
        )
    assert answer["data"]["bot"]["intent"] == "return_request"
    assert "order number" in answer["data"]["text"]
    assert fake.visions[-1]["kind"].startswith("data:image/")
    events = await agents_view(bot_server, answer["conversation_id"])
    described = next(e for e in events if e["type"] == "attachment.described")
    assert described["data"]["attachment_id"] == answer["attachment"]["id"]
    assert described["data"]["labels"] == ["damaged_item"]
    assert described["data"]["text"] == fake.description


async def test_a_photo_with_nothing_to_go_by_gets_a_question(
    bot_server: LiveServer, demo: int
) -> None:
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        welcome = await shopper.expect("welcome")
        answer = await _send(
            bot_server, shopper, welcome["visitor"]["token"], media_files.png(), "x.png"
        )
    assert answer["data"]["text"].startswith("Thanks for the photo. What can I help you with")
    assert answer["data"]["bot"]["photos"] == [answer["attachment"]["id"]]
    assert "flow" not in answer["data"]["bot"]


async def _agent(server: LiveServer) -> httpx.AsyncClient:
    from portside.services.demo import DEMO_PASSWORD
    from tests.support.clients import login

    return await login(server.base_url, "carlos@lotus-pine.example", DEMO_PASSWORD)


async def _eventually(read: Any, expected: Any) -> None:
    """Wait (bounded) for the agent's background work to show in the database."""
    import asyncio

    for _ in range(100):
        if await read() == expected:
            return
        await asyncio.sleep(0.05)
    assert await read() == expected


async def _case(svc: Services, store_id: int, case_id: int) -> dict[str, Any]:
    row = await svc.db.read(lambda conn: case_store.find_case(conn, store_id, case_id))
    assert row is not None
    return dict(row.data)


async def test_a_photos_label_is_the_returns_reason_when_the_shopper_gives_none(
    bot_svc: Services, bot_server: LiveServer, demo: int, fake: FakeMediaAi
) -> None:
    await _configure(bot_svc, demo, speech=None, vision=_endpoint(fake))
    fake.description, fake.label = "Una camisa con la costura rota.", "damaged_item"
    replies = default_replies()
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        token = (await shopper.expect("welcome"))["visitor"]["token"]
        await ask(shopper, "hola, quiero devolver la camisa del pedido #10233")
        why = await ask(shopper, "150-0001")
        seen = await _send(bot_server, shopper, token, media_files.png(), "a.png")
        opened = await ask(shopper, "prefiero el reembolso")
    assert why["data"]["bot"]["flow"]["step"] == "reason"
    # The photo answers why: the bot says what it saw and asks the next question.
    assert seen["data"]["text"] == replies.phrase("es", "return_reason_from_photo", "damaged")
    assert seen["data"]["bot"]["flow"]["reason"] == "damaged"
    # The description is for the agents, written in the store's language.
    assert "written in the language en" in fake.visions[-1]["texts"][0]
    data = await _case(bot_svc, demo, opened["data"]["bot"]["case_id"])
    assert (data["reason"], data["reason_by"]) == ("damaged", "photo")
    assert data["photos"] == [seen["attachment"]["id"]]
    # The shopper sent a photo: not asked for one.
    assert replies.say("es", "return_photo") not in opened["data"]["text"]


async def test_a_photo_of_the_wrong_item_starts_the_return_and_says_why(
    bot_svc: Services, bot_server: LiveServer, demo: int, fake: FakeMediaAi
) -> None:
    await _configure(bot_svc, demo, speech=None, vision=_endpoint(fake))
    fake.description, fake.label = "A blue silk dress; the order was a linen shirt.", "wrong_item"
    replies = default_replies()
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        token = (await shopper.expect("welcome"))["visitor"]["token"]
        started = await _send(bot_server, shopper, token, media_files.png(), "dress.png")
        await ask(shopper, "LP10233")
        why = await ask(shopper, "my postcode is 150-0001")
        opened = await ask(shopper, "a refund please")
    assert started["data"]["text"] == replies.say("en", "ask_order_number")
    assert started["data"]["bot"]["flow"]["photo_reason"] == "wrong_item"
    # Proved: the reason is not asked, the photo said it.
    assert why["data"]["text"] == replies.phrase("en", "return_reason_from_photo", "wrong_item")
    data = await _case(bot_svc, demo, opened["data"]["bot"]["case_id"])
    assert (data["order"], data["reason"], data["resolution"]) == (
        "LP10233",
        "wrong_item",
        "refund",
    )
    assert data["photos"] == [started["attachment"]["id"]]


async def test_a_payment_error_screenshot_goes_to_the_payment_not_a_return(
    bot_svc: Services, bot_server: LiveServer, demo: int, fake: FakeMediaAi
) -> None:
    await _configure(bot_svc, demo, speech=None, vision=_endpoint(fake))
    fake.description, fake.label = "A checkout page: 'Your card was declined'.", "payment_error"
    topic = default_replies().topic("en", "payment_problem")
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin) as shopper:
        token = (await shopper.expect("welcome"))["visitor"]["token"]
        # "My money back" would be a refund, and so a return: the screenshot says payment.
        shot = await _send(
            bot_server, shopper, token, media_files.png(), "s.png", "I want my money back"
        )
        # In a return flow too: the screenshot is not the return's evidence.
        await ask(shopper, "I want to return my order LP10233")
        asking = await ask(shopper, "150-0001")
        again = await _send(bot_server, shopper, token, media_files.png(), "t.png")
    for answer in (shot, again):
        assert answer["data"]["bot"]["intent"] == "payment_problem"
        assert "flow" not in answer["data"]["bot"]
        assert topic in answer["data"]["text"]
    assert asking["data"]["bot"]["flow"]["step"] == "reason"
