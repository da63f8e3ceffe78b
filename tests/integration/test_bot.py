"""The embedded AI agent answers shoppers over a real server, in their language."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from portside.services.bot import find_order
from portside.services.context import Services
from portside.services.demo import DEMO_PASSWORD, DEMO_STORE_KEY, do_seed_demo
from portside.storage import case_store, store_store
from tests.support.clients import WsClient, client_id, login, widget
from tests.support.factories import open_teams_around_the_clock, services_for
from tests.support.server import LiveServer

SHIRT = "washed-linen-shirt"


@pytest.fixture
async def bot_svc(bot_server: LiveServer) -> AsyncIterator[Services]:
    async with services_for(bot_server.database_url, bot_server.data_dir) as services:
        yield services


@pytest.fixture
async def demo(bot_svc: Services, bot_server: LiveServer) -> str:
    await do_seed_demo(bot_svc, origins=[bot_server.origin])
    await open_teams_around_the_clock(bot_svc, DEMO_STORE_KEY)
    return DEMO_STORE_KEY


async def ask(shopper: WsClient, text: str) -> dict[str, Any]:
    """Send, and return the bot's answer to it."""
    await shopper.send(type="message.send", client_id=client_id(), text=text)
    await shopper.expect("ack")
    frame = await shopper.expect(
        "event",
        timeout=15,
        where=lambda f: (
            f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "bot"
        ),
    )
    event: dict[str, Any] = frame["event"]
    return event


def context(product: str | None = None, language: str = "en-US") -> dict[str, Any]:
    return {
        "url": f"https://shop.example/products/{product or ''}",
        "title": "Lotus & Pine",
        "product": product,
        "language": language,
        "timezone": "America/New_York",
    }


async def test_greets_in_english(bot_server: LiveServer, demo: str) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "hi there!")
    assert answer["actor"]["type"] == "bot"
    assert "Lotus & Pine" in answer["data"]["text"]
    assert answer["data"]["bot"]["intent"] == "greeting"
    assert answer["data"]["bot"]["language"] == "en"


async def test_answers_care_of_the_product_in_view_in_spanish(
    bot_server: LiveServer, demo: str
) -> None:
    hello = {"context": context(SHIRT, "es-MX")}
    async with widget(bot_server.ws_url, demo, bot_server.origin, hello=hello) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "oye, ¿esta camisa se puede lavar en lavadora?")
    assert answer["data"]["bot"] == {
        "intent": "product_care",
        "confidence": answer["data"]["bot"]["confidence"],
        "language": "es",
        "understood": True,
    }
    text = answer["data"]["text"]
    assert "Camisa de lino lavado" in text
    assert "40 °C" in text and "máquina" in text.lower()


async def test_answers_shipping_from_the_store_knowledge_in_japanese(
    bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "日本までの送料はいくらですか？")
    assert answer["data"]["bot"]["intent"] == "shipping_info"
    assert answer["data"]["bot"]["language"] == "ja"
    assert "日本" in answer["data"]["text"]


async def test_hands_over_to_a_person_in_chinese_and_then_stays_quiet(
    bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "我想找人工客服")
        handoff = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
        assert answer["data"]["bot"]["intent"] == "human_agent"
        assert answer["data"]["bot"]["language"] == "zh"
        assert handoff["event"]["data"]["to"] == "queued"
        assert handoff["event"]["data"]["reason"] == "asked_for_person"
        # Between the two, the context packet for the person: never sent to the shopper.
        assert handoff["event"]["seq"] == answer["seq"] + 2

        await shopper.send(type="message.send", client_id=client_id(), text="你好？有人吗")
        await shopper.expect("ack")
        later = await shopper.quiet(1.5)
    assert [f for f in later if f["type"] == "event" and f["event"]["actor"]["type"] == "bot"] == []


async def test_order_status_only_after_the_shopper_proves_the_order_is_theirs(
    bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        asked = await ask(shopper, "hi, where is my order??")
        proof = await ask(shopper, "LP10231")
        status = await ask(shopper, "ana.garcia@example.com")
    assert asked["data"]["bot"]["flow"] == {"name": "order_status"}
    assert "LP10231" in proof["data"]["text"] and "DHL" not in proof["data"]["text"]
    assert "flow" not in status["data"]["bot"]
    assert "DHL Express" in status["data"]["text"]
    assert "JD014600003828" in status["data"]["text"]


async def test_order_status_in_spanish_with_the_postcode(bot_server: LiveServer, demo: str) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        await ask(shopper, "hola, ¿dónde está mi pedido #10231?")
        status = await ask(shopper, "mi código postal es 28013")
    assert status["data"]["bot"]["language"] == "es"
    assert "El pedido LP10231 está en camino" in status["data"]["text"]


async def test_cancelling_an_order_in_japanese(
    bot_server: LiveServer, bot_svc: Services, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        await ask(shopper, "注文をキャンセルしたいです。注文番号は LP10234 です")
        offer = await ask(shopper, "メールは li.wei@example.com です")
        done = await ask(shopper, "はい")
    assert offer["data"]["bot"]["flow"]["verified"] is True
    assert "LP10234" in done["data"]["text"]
    store = await bot_svc.db.read(lambda conn: store_store.find_store_by_key(conn, demo))
    order = await find_order(bot_svc, store.id, "LP10234")
    assert order is not None and order["status"] == "cancelled"


async def agents_view(server: LiveServer, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's events as the console's REST API gives them to an agent."""
    http = await login(server.base_url, "carlos@lotus-pine.example", DEMO_PASSWORD)
    try:
        response = await http.get(f"/api/v1/conversations/{conversation_id}/events")
    finally:
        await http.aclose()
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def test_a_handoff_carries_its_context_packet_for_the_person_only(
    bot_server: LiveServer, demo: str
) -> None:
    hello = {"context": {**context(SHIRT, "es-ES"), "timezone": "Europe/Madrid"}}
    async with widget(bot_server.ws_url, demo, bot_server.origin, hello=hello) as shopper:
        await shopper.expect("welcome")
        await ask(shopper, "hola, ¿dónde está mi pedido #10231?")
        await ask(shopper, "mi código postal es 28013")
        answer = await ask(shopper, "esto es ridículo, quiero hablar con una persona")
        await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
        seen = [f["event"]["type"] for f in await shopper.quiet(0.5) if f["type"] == "event"]
    assert "conversation.handoff_context" not in seen

    events = await agents_view(bot_server, answer["conversation_id"])
    kinds = [e["type"] for e in events]
    packets = [e for e in events if e["type"] == "conversation.handoff_context"]
    assert len(packets) == 1
    # The person's console has the packet before it hears of the handoff.
    assert (
        kinds.index("conversation.handoff_context")
        == kinds.index("conversation.status_changed") - 1
    )
    data = packets[0]["data"]
    assert data["reason"] == "asked_for_person"
    assert data["language"] == "es"
    assert data["intents"][0] == "order_status"
    assert data["orders"] == [{"number": "LP10231", "status": "in_transit", "verified": True}]
    assert data["sentiment"] == "negative"
    assert data["page"]["product"] == SHIRT
    assert data["timezone"] == "Europe/Madrid"
    assert "writing in Spanish" in data["summary"]
    assert "quiero hablar con una persona" in data["summary"]


async def test_the_talk_to_a_person_button_gets_its_packet_too_once(
    bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "do you ship to canada?")
        await shopper.send(type="person.request")
        await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
        # Pressing it again changes nothing and writes no second packet.
        await shopper.send(type="person.request")
        seen = [f["event"]["type"] for f in await shopper.quiet(1.0) if f["type"] == "event"]
    assert "conversation.handoff_context" not in seen

    for _ in range(50):
        events = await agents_view(bot_server, answer["conversation_id"])
        packets = [e for e in events if e["type"] == "conversation.handoff_context"]
        if packets:
            break
        await asyncio.sleep(0.1)
    assert len(packets) == 1
    data = packets[0]["data"]
    assert data["reason"] == "asked_for_person"
    assert data["language"] == "en"
    assert data["intents"] == [answer["data"]["bot"]["intent"]]
    assert data["summary"].endswith('Last message: "do you ship to canada?"')
    handoff = next(e for e in events if e["type"] == "conversation.status_changed")
    assert packets[0]["seq"] > handoff["seq"]


async def test_an_exchange_in_spanish_opens_a_case_and_hands_it_to_the_team(
    bot_svc: Services, bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        await ask(shopper, "hola, quiero devolver la camisa del pedido #10233")
        reason = await ask(shopper, "150-0001")
        resolution = await ask(shopper, "me queda pequeña")
        opened = await ask(shopper, "prefiero cambiarla por una L")
        handoff = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
    assert reason["data"]["bot"]["verified_order"] == "LP10233"
    assert "Camisa de lino lavado" in reason["data"]["text"]
    assert "reembolso" in resolution["data"]["text"]
    case_id = opened["data"]["bot"]["case_id"]
    assert f"#{case_id}" in opened["data"]["text"]
    assert "cambio por la talla L" in opened["data"]["text"]
    assert handoff["event"]["data"]["reason"] == "case_opened"

    store = await bot_svc.db.read(lambda conn: store_store.find_store_by_key(conn, demo))
    case = await bot_svc.db.read(lambda conn: case_store.find_case(conn, store.id, case_id))
    assert case is not None
    assert (case.kind, case.status, case.conversation_id) == (
        "exchange",
        "open",
        opened["conversation_id"],
    )
    assert case.data["order"] == "LP10233"
    assert case.data["items"][0]["sku"] == "LP-WLS-SAN-M"
    assert (case.data["reason"], case.data["exchange_for"]) == ("too_small", {"size": "L"})
    assert case.data["words"] == "me queda pequeña"
    packet = next(
        e
        for e in await agents_view(bot_server, opened["conversation_id"])
        if e["type"] == "conversation.handoff_context"
    )
    assert packet["data"]["case_id"] == case_id
    assert packet["data"]["reason"] == "case_opened"


async def test_a_new_address_before_shipping_after_an_explicit_yes(
    bot_svc: Services, bot_server: LiveServer, demo: str
) -> None:
    address = "Li Wei, 88 Huaihai Road, 200031 Shanghai, China"
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        await ask(shopper, "I need to change the delivery address of order #10234")
        asked = await ask(shopper, "li.wei@example.com")
        confirm = await ask(shopper, address)
        store = await bot_svc.db.read(lambda conn: store_store.find_store_by_key(conn, demo))
        before = await find_order(bot_svc, store.id, "LP10234")
        done = await ask(shopper, "yes")
    assert "LP10234" in asked["data"]["text"] and "postcode" in asked["data"]["text"]
    assert address in confirm["data"]["text"]
    assert before is not None and "address" not in before["ship_to"]
    assert address in done["data"]["text"]
    after = await find_order(bot_svc, store.id, "LP10234")
    assert after is not None
    assert after["ship_to"]["address"] == address
    assert after["ship_to"]["previous"]["city"] == "Shanghai"


async def test_shipping_to_a_country_and_a_follow_up_for_another(
    bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        canada = await ask(shopper, "how much is shipping to Canada?")
        japan = await ask(shopper, "and to Japan?")
        customs = await ask(shopper, "¿y hay que pagar aduana para Brasil?")
    assert canada["data"]["bot"]["intent"] == "shipping_info"
    assert canada["data"]["text"].startswith("Shipping to Canada: standard $6.90, 7–12")
    assert japan["data"]["bot"]["intent"] == "shipping_info"
    assert japan["data"]["text"].startswith("Shipping to Japan: standard $4.90, 5–8")
    assert customs["data"]["bot"]["intent"] == "customs_duties"
    assert "Brasil" in customs["data"]["text"] and "aduana" in customs["data"]["text"]


async def test_a_refund_above_the_stores_limit_is_handed_to_a_person(
    bot_server: LiveServer, demo: str
) -> None:
    async with widget(bot_server.ws_url, demo, bot_server.origin) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "I want a refund for my order #10234 please")
        handoff = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
    assert answer["data"]["bot"]["intent"] == "refund_request"
    assert handoff["event"]["data"]["reason"] == "store_rule"
    packet = next(
        e
        for e in await agents_view(bot_server, answer["conversation_id"])
        if e["type"] == "conversation.handoff_context"
    )
    assert packet["data"]["orders"] == [
        {"number": "LP10234", "status": "processing", "verified": False}
    ]
    assert "a store rule sends this to a person" in packet["data"]["summary"]


async def test_size_advice_and_stock_of_another_colour_on_a_product_page(
    bot_server: LiveServer, demo: str
) -> None:
    hello = {"context": context(SHIRT)}
    async with widget(bot_server.ws_url, demo, bot_server.origin, hello=hello) as shopper:
        await shopper.expect("welcome")
        sizes = await ask(shopper, "what size should I get in this shirt?")
        advice = await ask(shopper, "my chest is about 40 inches")
        stock = await ask(shopper, "is it in stock?")
        white = await ask(shopper, "and the white one?")
    assert sizes["data"]["bot"]["intent"] == "size_fit"
    assert "chest or waist measurement" in sizes["data"]["text"]
    assert advice["data"]["bot"]["intent"] == "size_fit"
    assert "I'd suggest size M of the Washed Linen Shirt" in advice["data"]["text"]
    assert stock["data"]["bot"]["intent"] == "stock_availability"
    assert white["data"]["bot"]["intent"] == "stock_availability"
    assert "White" in white["data"]["text"] and "Sand" not in white["data"]["text"]
