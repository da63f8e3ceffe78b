"""A store's shipping zones over the settings API, and the bot answering from its own."""

from __future__ import annotations

from typing import Any

from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer

ZONES: dict[str, Any] = {
    "currency": "EUR",
    "free_over": 60,
    "zones": [
        {
            "name": "Iberia",
            "countries": ["es", "PT"],
            "standard": {"price": "3.5", "days_min": 2, "days_max": 4},
            "duties": "included",
        }
    ],
}


async def test_admins_set_the_zones_agents_read_them_and_wrong_fields_are_named(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    try:
        empty = await agent.get("/api/v1/settings/shipping")
        assert empty.json() == {"currency": None, "free_over": None, "zones": []}

        wrong = {**ZONES, "zones": [{**ZONES["zones"][0], "countries": ["ES", "Spain"]}]}
        refused = await admin.put("/api/v1/settings/shipping", json=wrong)
        assert refused.status_code == 400
        assert refused.json()["error"]["details"] == [
            {
                "field": "zones[0].countries",
                "problem": "'Spain' is not a two-letter country code such as US.",
            }
        ]
        assert (await agent.get("/api/v1/settings/shipping")).json() == empty.json()

        put = await admin.put("/api/v1/settings/shipping", json=ZONES)
        assert put.status_code == 200, put.text
        assert put.json() == {
            "currency": "EUR",
            "free_over": "60.00",
            "zones": [
                {
                    "name": "Iberia",
                    "countries": ["ES", "PT"],
                    "standard": {"price": "3.50", "days_min": 2, "days_max": 4},
                    "express": None,
                    "duties": "included",
                }
            ],
        }
        assert (await agent.get("/api/v1/settings/shipping")).json() == put.json()
        assert (await agent.put("/api/v1/settings/shipping", json=ZONES)).status_code == 403
    finally:
        await admin.aclose()
        await agent.aclose()


async def test_the_bot_answers_from_its_own_stores_zones(
    bot_server: LiveServer,
) -> None:
    async with services_for(bot_server.database_url, bot_server.data_dir) as svc:
        mine = await make_store(svc, origin=bot_server.origin, name="Iberia Shop")
        other = await make_store(svc, origin=bot_server.origin, name="Elsewhere Shop")
    await _set_zones(bot_server, mine, ZONES)
    portugal = await _ask(bot_server, mine, "quanto custa o frete para Portugal?")
    assert portugal["data"]["bot"]["intent"] == "shipping_info"
    assert portugal["data"]["text"].startswith("Envio para Portugal: padrão €\xa03,50, 2–4 dias")
    # Another store without zones answers as it always did: no other store's rates.
    elsewhere = await _ask(bot_server, other, "quanto custa o frete para Portugal?")
    assert "3,50" not in elsewhere["data"]["text"]


async def _set_zones(server: LiveServer, shop: StoreFixture, zones: dict[str, Any]) -> None:
    admin = await login(server.base_url, shop.agents[0]["email"], shop.agents[0]["password"])
    try:
        response = await admin.put("/api/v1/settings/shipping", json=zones)
        assert response.status_code == 200, response.text
    finally:
        await admin.aclose()


async def _ask(server: LiveServer, shop: StoreFixture, text: str) -> dict[str, Any]:
    async with widget(server.ws_url, shop.widget_key, shop.origin) as shopper:
        await shopper.expect("welcome")
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
