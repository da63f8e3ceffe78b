"""The AI agent and the orders a store's shop sends: a Shopify order delivered by a
signed webhook is found by the number the shopper knows ("#1001", "order 1001"), told
only after the proof, in the shopper's store alone; changing it goes to a person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from portside.agent.replies import default_replies
from portside.services.bot import find_order
from portside.services.context import Services
from tests.support.clients import WsClient, client_id, login, widget
from tests.support.factories import (
    StoreFixture,
    make_store,
    open_teams_around_the_clock,
    services_for,
)
from tests.support.server import LiveServer
from tests.support.webhooks import generic_order, post_generic, post_shopify, shopify_payload

SHOPIFY_SECRET = "shpss_" + "0b7e4d2a9c1f3e5a7b9d1f3a5c7e9b1d"
WEBHOOK_SECRET = "whsec-" + "9f8e7d6c5b4a39281706"
REPLIES = default_replies()


@pytest.fixture
async def bot_svc(bot_server: LiveServer) -> AsyncIterator[Services]:
    async with services_for(bot_server.database_url, bot_server.data_dir) as services:
        yield services


async def shop(svc: Services, server: LiveServer) -> StoreFixture:
    """A store open around the clock whose shops sign their order webhooks: Shopify
    with SHOPIFY_SECRET, another shop with WEBHOOK_SECRET."""
    store = await make_store(svc, origin=server.origin)
    await open_teams_around_the_clock(svc, store.widget_key)
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    try:
        response = await admin.put(
            "/api/v1/settings/orders",
            json={"shopify_secret": SHOPIFY_SECRET, "webhook_secret": WEBHOOK_SECRET},
        )
        assert response.status_code == 200, response.text
    finally:
        await admin.aclose()
    return store


async def deliver_order(server: LiveServer, store: StoreFixture) -> None:
    """Shopify's orders/create for "#1001" (ana.garcia@example.com, 28013 Madrid)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await post_shopify(
            http, store.widget_key, shopify_payload(visitor=None), SHOPIFY_SECRET
        )
    assert response.status_code == 201, response.text
    assert response.json()["order"]["number"] == "#1001"


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


async def events_for_agents(
    server: LiveServer, store: StoreFixture, conversation_id: int
) -> list[dict[str, Any]]:
    """The conversation's events as the console's REST API gives them to the store's
    agents."""
    http = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    try:
        response = await http.get(f"/api/v1/conversations/{conversation_id}/events")
    finally:
        await http.aclose()
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def test_a_shopify_order_is_told_by_its_number_after_the_proof_in_spanish(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    store = await shop(bot_svc, bot_server)
    await deliver_order(bot_server, store)
    hello = {"context": {"language": "es-ES", "timezone": "Europe/Madrid"}}
    async with widget(bot_server.ws_url, store.widget_key, store.origin, hello=hello) as shopper:
        await shopper.expect("welcome")
        asked = await ask(shopper, "hola, ¿dónde está mi pedido #1001?")
        wrong = await ask(shopper, "mi código postal es 08001")
        told = await ask(shopper, "perdón, es 28013")
    # Nothing about the order before the proof: not its status, not a wrong proof's.
    assert asked["data"]["text"] == REPLIES.say("es", "ask_verification", order="#1001")
    assert asked["data"]["bot"]["flow"] == {"name": "order_status", "order": "#1001", "proofs": 0}
    assert wrong["data"]["text"] == REPLIES.say("es", "verification_failed", order="#1001")
    assert told["data"]["bot"]["verified_order"] == "#1001"
    assert told["data"]["bot"]["language"] == "es"
    assert told["data"]["text"].startswith(
        REPLIES.say(
            "es",
            "order_status",
            order="#1001",
            status=REPLIES.phrase("es", "status_names", "processing"),
        )
    )


async def test_another_stores_shopper_cannot_reach_the_order(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    owner = await shop(bot_svc, bot_server)
    await deliver_order(bot_server, owner)
    other = await make_store(bot_svc, origin=bot_server.origin)
    await open_teams_around_the_clock(bot_svc, other.widget_key)
    async with widget(bot_server.ws_url, other.widget_key, other.origin) as shopper:
        await shopper.expect("welcome")
        answer = await ask(shopper, "where is my order #1001?")
    assert answer["data"]["text"] == REPLIES.say("en", "order_not_found", order="#1001")


async def test_cancelling_a_shopify_order_goes_to_a_person_with_the_order(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    store = await shop(bot_svc, bot_server)
    await deliver_order(bot_server, store)
    async with widget(bot_server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        asked = await ask(shopper, "I want to cancel my order 1001")
        handed = await ask(shopper, "it's ana.garcia@example.com")
        handoff = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
    assert asked["data"]["text"] == REPLIES.say("en", "ask_verification", order="#1001")
    assert asked["data"]["bot"]["intent"] == "cancel_order"
    assert handed["data"]["text"] == REPLIES.say("en", "order_change_needs_person", order="#1001")
    assert handoff["event"]["data"]["to"] == "queued"
    assert handoff["event"]["data"]["reason"] == "order_change_needs_person"

    # The bot changed nothing: the shop keeps the order, and a person changes it there.
    order = await find_order(bot_svc, store.id, "#1001")
    assert order is not None
    assert (order["status"], order["source"]) == ("processing", "shopify")

    events = await events_for_agents(bot_server, store, handed["conversation_id"])
    packet = next(e for e in events if e["type"] == "conversation.handoff_context")["data"]
    assert packet["reason"] == "order_change_needs_person"
    assert packet["orders"] == [{"number": "#1001", "status": "processing", "verified": True}]
    assert packet["intents"][0] == "cancel_order"
    assert "a person changes it there" in packet["summary"]


async def test_a_new_address_for_another_shops_order_goes_to_a_person(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    store = await shop(bot_svc, bot_server)
    async with httpx.AsyncClient(base_url=bot_server.base_url, timeout=10) as http:
        delivered = await post_generic(http, store.widget_key, generic_order(), WEBHOOK_SECRET)
    assert delivered.status_code == 201, delivered.text  # "A-1001", postcode 1100-148
    async with widget(bot_server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        asked = await ask(shopper, "I need to change the delivery address of order a1001")
        handed = await ask(shopper, "1100-148")
    assert asked["data"]["text"] == REPLIES.say("en", "ask_verification", order="A-1001")
    assert handed["data"]["bot"]["verified_order"] == "A-1001"
    assert handed["data"]["text"] == REPLIES.say("en", "order_change_needs_person", order="A-1001")
    order = await find_order(bot_svc, store.id, "A-1001")
    assert order is not None and "address" not in order["ship_to"]
    packet = next(
        e
        for e in await events_for_agents(bot_server, store, handed["conversation_id"])
        if e["type"] == "conversation.handoff_context"
    )["data"]
    assert packet["reason"] == "order_change_needs_person"
    assert packet["orders"] == [{"number": "A-1001", "status": "processing", "verified": True}]
