"""Outside business hours, over a real server with the embedded AI agent: a shopper who
asks for a person is queued and told, in their language and local time, when one is
back; the bot keeps answering while they wait and keeps the email address they give.
Within business hours none of it happens.

The server keeps the real clock, so each store's team gets hours relative to now: open
only on the day three days ahead (New York time), so closed now whatever the hour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from portside.commerce.catalog import load_demo_catalog
from portside.services.context import Services
from portside.storage import store_store
from tests.support.clients import WsClient, client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEW_YORK = ZoneInfo("America/New_York")
SHIRT = "washed-linen-shirt"
# Written out here rather than asked of Babel, which the server uses.
LUNES_A_DOMINGO = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONDAY_TO_SUNDAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture
async def bot_svc(bot_server: LiveServer) -> AsyncIterator[Services]:
    async with services_for(bot_server.database_url, bot_server.data_dir) as services:
        yield services


async def store_with_team(svc: Services, server: LiveServer, hours: dict[str, Any]) -> StoreFixture:
    """A store with the demo catalogue and one team with `hours` in New York."""
    shop = await make_store(svc, origin=server.origin)
    products = [product.to_dict() for product in load_demo_catalog()]
    await svc.db.write(lambda conn: store_store.upsert_products(conn, shop.id, products))
    admin = await login(server.base_url, shop.agents[0]["email"], shop.agents[0]["password"])
    try:
        team = {"name": "Care", "timezone": "America/New_York", "hours": hours}
        created = await admin.post("/api/v1/teams", json=team)
        assert created.status_code == 201, created.text
    finally:
        await admin.aclose()
    return shop


def closed_until_in_three_days() -> tuple[dict[str, Any], datetime]:
    """Hours open only three days from now, New York time, and when they open (UTC)."""
    day = datetime.now(NEW_YORK).date() + timedelta(days=3)
    opens = datetime.combine(day, time(9, 0), tzinfo=NEW_YORK)
    return {DAYS[day.weekday()]: [["09:00", "18:00"]]}, opens.astimezone(UTC)


def hello(language: str, timezone: str) -> dict[str, Any]:
    return {
        "context": {
            "url": f"https://shop.example/products/{SHIRT}",
            "product": SHIRT,
            "language": language,
            "timezone": timezone,
        }
    }


async def bot_says(shopper: WsClient, text: str | None = None) -> dict[str, Any]:
    """Send `text` (if any) and return the bot's next message."""
    if text is not None:
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


async def status_change(shopper: WsClient) -> dict[str, Any]:
    frame = await shopper.expect(
        "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
    )
    event: dict[str, Any] = frame["event"]
    return event


async def visitor_email(svc: Services, store_id: int, visitor_id: int) -> str | None:
    row = await svc.db.read(lambda conn: store_store.find_visitor(conn, store_id, visitor_id))
    assert row is not None
    return row.email  # type: ignore[no-any-return]


async def test_asking_for_a_person_when_closed_says_when_one_is_back_and_the_bot_helps_on(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    hours, opens = closed_until_in_three_days()
    shop = await store_with_team(bot_svc, bot_server, hours)
    in_madrid = opens.astimezone(ZoneInfo("Europe/Madrid"))
    when = f"el {LUNES_A_DOMINGO[in_madrid.weekday()]} a las {in_madrid:%-H:%M}"

    async with widget(
        bot_server.ws_url, shop.widget_key, shop.origin, hello=hello("es-ES", "Europe/Madrid")
    ) as shopper:
        welcome = await shopper.expect("welcome")
        visitor_id = welcome["visitor"]["id"]
        asked = await bot_says(shopper, "hola, quiero hablar con una persona")
        queued = await status_change(shopper)

        # The conversation is in the queue, where people find it when they are back.
        assert queued["data"]["to"] == "queued"
        assert queued["data"]["reason"] == "asked_for_person"
        text = asked["data"]["text"]
        assert f"Una persona volverá {when} (tu hora local)" in text
        assert "escribe tu dirección de correo" in text
        assert asked["data"]["bot"]["off_hours"] == {
            "opens_at": opens.isoformat().replace("+00:00", "Z")
        }

        # While it waits, the bot still answers questions...
        care = await bot_says(shopper, "¿esta camisa se puede lavar en lavadora?")
        assert care["data"]["bot"]["intent"] == "product_care"
        assert "Camisa de lino lavado" in care["data"]["text"]

        # ...asks again for an address that is not one...
        wrong = await bot_says(shopper, "mi correo es ana.garcia@example")
        assert "no parece completa" in wrong["data"]["text"]
        assert await visitor_email(bot_svc, shop.id, visitor_id) is None

        # ...and keeps the one the shopper gives, confirming it in their language.
        saved = await bot_says(shopper, "mi correo es Ana.Garcia@Example.com")
        assert "He anotado Ana.Garcia@example.com" in saved["data"]["text"]
        assert saved["data"]["bot"]["email_saved"] == "Ana.Garcia@example.com"
    assert await visitor_email(bot_svc, shop.id, visitor_id) == "Ana.Garcia@example.com"


async def test_the_button_when_closed_says_when_and_that_replies_go_to_the_known_email(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    hours, opens = closed_until_in_three_days()
    shop = await store_with_team(bot_svc, bot_server, hours)
    in_new_york = opens.astimezone(NEW_YORK)
    when = f"{MONDAY_TO_SUNDAY[in_new_york.weekday()]} at 9:00\u202fAM your time"

    async with widget(
        bot_server.ws_url, shop.widget_key, shop.origin, hello=hello("en-US", "America/New_York")
    ) as shopper:
        visitor_id = (await shopper.expect("welcome"))["visitor"]["id"]
        await bot_svc.db.write(
            lambda conn: store_store.update_visitor(
                conn, visitor_id, now=datetime.now(UTC), email="jo@example.com"
            )
        )
        await shopper.send(type="person.request")
        queued = await status_change(shopper)
        told = await bot_says(shopper)
    assert queued["data"]["to"] == "queued"
    assert f"Someone will be back {when}" in told["data"]["text"]
    assert "reply by email to jo@example.com" in told["data"]["text"]
    assert told["seq"] > queued["seq"]


async def test_within_business_hours_nothing_of_this_happens(
    bot_server: LiveServer, bot_svc: Services
) -> None:
    always = {day: [["00:00", "24:00"]] for day in DAYS}
    shop = await store_with_team(bot_svc, bot_server, always)

    async with widget(
        bot_server.ws_url, shop.widget_key, shop.origin, hello=hello("es-ES", "Europe/Madrid")
    ) as shopper:
        visitor_id = (await shopper.expect("welcome"))["visitor"]["id"]
        asked = await bot_says(shopper, "hola, quiero hablar con una persona")
        queued = await status_change(shopper)
        assert queued["data"]["to"] == "queued"
        assert asked["data"]["text"].startswith("Te paso ahora con una persona")
        assert "off_hours" not in asked["data"]["bot"]

        # A person is on the way: the bot stays quiet, and keeps no address.
        await shopper.send(type="message.send", client_id=client_id(), text="ana@example.com")
        await shopper.expect("ack")
        later = await shopper.quiet(1.5)
    bot_later = [f for f in later if f["type"] == "event" and f["event"]["actor"]["type"] == "bot"]
    assert bot_later == []
    assert await visitor_email(bot_svc, shop.id, visitor_id) is None
