"""Proactive messages end to end: a shopper's widget reports what they do over a real
socket, the server's engine judges it against the store's rules, and the bot's message
comes back on the same socket, in the shopper's language, with its coupon; once per
rule, within the daily cap, never while a person has the conversation; a held-out
visitor gets a fire row and nothing else. The rules' API refuses wrong rules field by
field and previews them against recent visitors."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from portside.domain.triggers import in_holdout
from portside.services.context import Services
from portside.storage.tables import conversations, trigger_fires
from tests.support.clients import WsClient, client_id, console, login, widget
from tests.support.coupons import insert_pool
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer

PAGE = "https://shop.example/products/linen-dress"
_ids = itertools.count(1)


def rule(name: str, *conditions: dict[str, Any], **actions: Any) -> dict[str, Any]:
    return {
        "name": name,
        "conditions": {"match": "all", "conditions": list(conditions)},
        "actions": {
            "message": {"texts": {"en": "Need a hand with your cart?", "es": "¿Te ayudamos?"}},
            **actions,
        },
    }


BIG_CART = {"type": "cart_value", "min": 50}
LEAVING = {"type": "exit_intent"}


async def admin(server: LiveServer, store: StoreFixture) -> httpx.AsyncClient:
    return await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])


async def create(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/api/v1/triggers", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@contextlib.asynccontextmanager
async def shopper(
    server: LiveServer, store: StoreFixture, language: str = "en-US", token: str | None = None
) -> AsyncIterator[tuple[WsClient, int, str]]:
    hello: dict[str, Any] = {"context": {"url": PAGE, "language": language}}
    if token is not None:
        hello["token"] = token
    async with widget(server.ws_url, store.widget_key, store.origin, hello=hello) as client:
        welcome = await client.expect("welcome")
        yield client, int(welcome["visitor"]["id"]), str(welcome["visitor"]["token"])


async def track(client: WsClient, kind: str, **data: Any) -> None:
    ref = next(_ids)
    event = {"client_id": f"e-{uuid.uuid4().hex}", "type": kind, "data": data}
    await client.send(type="track", ref=ref, session_id="s-1", events=[event])
    ack = await client.expect("track.ack", where=lambda f: f.get("ref") == ref)
    assert ack["stored"] == 1


async def add_to_cart(client: WsClient, value: int) -> None:
    await track(client, "add_to_cart", product="linen-dress", cart_value=value, cart_items=1)


async def proactive(client: WsClient, timeout: float = 5) -> dict[str, Any]:
    frame = await client.expect("event", timeout, where=_is_proactive)
    event: dict[str, Any] = frame["event"]
    return event


def _is_proactive(frame: dict[str, Any]) -> bool:
    event = frame["event"]
    return event["type"] == "message.created" and "proactive" in event["data"]


async def no_proactive(client: WsClient) -> None:
    assert not [f for f in await client.quiet(0.8) if f["type"] == "event" and _is_proactive(f)]


async def fires_of(svc: Services, trigger_id: int) -> list[Any]:
    query = select(trigger_fires).where(trigger_fires.c.trigger_id == trigger_id)
    return await svc.db.read(lambda conn: list(conn.execute(query)))


async def test_a_rule_that_holds_sends_its_message_in_the_shoppers_language_once(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await admin(server, store)
    try:
        trigger = await create(http, rule("Big cart", BIG_CART, open_widget=True))
        async with shopper(server, store, "es-MX") as (client, visitor_id, _token):
            await add_to_cart(client, 30)
            await no_proactive(client)
            await add_to_cart(client, 80)
            message = await proactive(client)
            assert message["actor"]["type"] == "bot"
            assert message["data"]["text"] == "¿Te ayudamos?"
            fire_id = message["data"]["proactive"]["fire_id"]
            assert message["data"]["client_id"] == f"trigger:{fire_id}"
            assert message["data"]["proactive"] == {
                "fire_id": fire_id,
                "trigger_id": trigger["id"],
                "open": True,
                "coupon": None,
            }
            # Still true, but once per visitor per rule.
            await add_to_cart(client, 120)
            await no_proactive(client)
        (fire,) = await fires_of(svc, trigger["id"])
        assert fire.id == fire_id and fire.visitor_id == visitor_id and not fire.held_out
        assert fire.event_id == message["id"] and fire.context["cart_value"] == "80"
        assert fire.context["language"] == "es"
        got = (await http.get(f"/api/v1/triggers/{trigger['id']}")).json()
        assert got["stats"] == {"fired": 1, "held_out": 0, "contacted": 1}
    finally:
        await http.aclose()


async def test_a_time_on_page_rule_fires_by_its_timer_in_the_stores_language(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await admin(server, store)
    try:
        body = rule("Lingerer", {"type": "time_on_page", "seconds": 1})
        await create(http, body)
        async with shopper(server, store, "ja") as (client, _visitor_id, _token):
            await track(client, "page_view", url=PAGE, title="Linen dress")
            # Nothing else is sent: the engine's timer makes the rule true.
            message = await proactive(client)
            assert message["data"]["text"] == "Need a hand with your cart?"  # store: en
    finally:
        await http.aclose()


async def test_no_message_while_the_shopper_types_a_first_message(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await admin(server, store)
    try:
        await create(http, rule("Lingerer while typing", {"type": "time_on_page", "seconds": 2}))
        async with shopper(server, store) as (client, _visitor_id, _token):
            await track(client, "page_view", url=PAGE, title="Linen dress")
            # No conversation yet: the typing is for the engine alone. The widget renews
            # it every few seconds while the shopper types (here sooner).
            frames = []
            for _ in range(3):
                await client.send(type="typing", state=True)
                frames += await client.quiet(1.0)
            assert not [f for f in frames if f["type"] == "event" and _is_proactive(f)]
            await client.send(type="typing", state=False)
            message = await proactive(client, timeout=10)
            assert message["data"]["text"] == "Need a hand with your cart?"
    finally:
        await http.aclose()


async def test_the_coupon_rides_with_the_message_until_the_pool_runs_out(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    now = svc.clock.now()
    pool_id = await svc.db.write(
        lambda conn: insert_pool(conn, store.id, now, codes=["SPRING-ONLY-ONE"])
    )
    http = await admin(server, store)
    try:
        trigger = await create(http, rule("Coupon", LEAVING, coupon={"pool_id": pool_id}))
        async with shopper(server, store, "es") as (client, _visitor_id, _token):
            await track(client, "exit_intent")
            coupon = (await proactive(client))["data"]["proactive"]["coupon"]
            assert coupon == {
                "code": "SPRING-ONLY-ONE",
                "description": "10 % de descuento",
                "expires_at": None,
            }
        async with shopper(server, store) as (client, _visitor_id, _token):
            await track(client, "exit_intent")
            message = await proactive(client)
            assert message["data"]["proactive"]["coupon"] is None
            assert message["data"]["text"] == "Need a hand with your cart?"
        first, second = sorted(await fires_of(svc, trigger["id"]), key=lambda f: f.id)
        assert first.coupon_code_id is not None and "coupon" not in first.context
        assert second.coupon_code_id is None and second.context["coupon"] == "none_left"
    finally:
        await http.aclose()


async def test_the_daily_cap_holds_across_rules(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await admin(server, store)
    try:
        capped = await http.put("/api/v1/settings/engagement", json={"max_per_visitor_per_day": 1})
        assert capped.json() == {"max_per_visitor_per_day": 1, "quiet_after_close_min": 30}
        first = await create(http, rule("First", LEAVING, notify_agents=False))
        second = await create(http, rule("Second", BIG_CART))
        async with shopper(server, store) as (client, _visitor_id, _token):
            await track(client, "exit_intent")
            await proactive(client)
            await add_to_cart(client, 90)
            await no_proactive(client)
        assert len(await fires_of(svc, first["id"])) == 1
        assert await fires_of(svc, second["id"]) == []
    finally:
        await http.put("/api/v1/settings/engagement", json={})
        await http.aclose()


async def test_no_message_while_a_person_has_the_conversation(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await admin(server, store)
    try:
        trigger = await create(http, rule("Leaving", LEAVING))
        async with shopper(server, store) as (client, _visitor_id, _token):
            await client.send(type="message.send", client_id=client_id(), text="Hi", ref="m")
            conversation_id = (await client.expect("ack"))["conversation_id"]
            taken = await http.post(f"/api/v1/conversations/{conversation_id}/take")
            assert taken.status_code == 200
            await track(client, "exit_intent")
            await no_proactive(client)
            assert await fires_of(svc, trigger["id"]) == []
            # Once the person is done, the rule may speak (in a new conversation).
            await http.post(f"/api/v1/conversations/{conversation_id}/resolve")
            await track(client, "page_view", url=PAGE)
            await track(client, "exit_intent")
            message = await proactive(client)
            assert message["conversation_id"] != conversation_id
            status = await svc.db.read(
                lambda conn: conn.execute(
                    select(conversations.c.status).where(
                        conversations.c.id == message["conversation_id"]
                    )
                ).scalar_one()
            )
            assert status == "bot"
    finally:
        await http.aclose()


async def test_a_held_out_visitor_gets_a_fire_row_and_no_message(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await admin(server, store)
    try:
        trigger = await create(http, {**rule("Half", LEAVING), "holdout_pct": 50})
        seen = {True: False, False: False}
        for _ in range(40):
            async with shopper(server, store) as (client, visitor_id, _token):
                held = in_holdout(trigger["id"], visitor_id, 50)
                if seen[held]:
                    continue
                seen[held] = True
                await track(client, "exit_intent")
                if held:
                    await no_proactive(client)
                else:
                    await proactive(client)
            if all(seen.values()):
                break
        assert all(seen.values())
        fires = await fires_of(svc, trigger["id"])
        held_out = [f for f in fires if f.held_out]
        assert len(held_out) == 1 and len(fires) == 2
        assert held_out[0].conversation_id is None and held_out[0].event_id is None
        stats = (await http.get(f"/api/v1/triggers/{trigger['id']}")).json()["stats"]
        assert stats == {"fired": 2, "held_out": 1, "contacted": 1}
    finally:
        await http.aclose()


async def test_closing_a_proactive_message_keeps_the_others_quiet(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await admin(server, store)
    try:
        await create(http, rule("Leaving", LEAVING))
        later = await create(http, rule("Cart", BIG_CART))
        async with shopper(server, store) as (client, _visitor_id, _token):
            await track(client, "exit_intent")
            fire_id = (await proactive(client))["data"]["proactive"]["fire_id"]
            await track(client, "proactive_closed", fire_id=fire_id)
            await add_to_cart(client, 200)
            await no_proactive(client)
        assert await fires_of(svc, later["id"]) == []
        closed = await svc.db.read(
            lambda conn: conn.execute(
                select(trigger_fires.c.closed_at).where(trigger_fires.c.id == fire_id)
            ).scalar_one()
        )
        assert closed is not None
    finally:
        await http.aclose()


async def test_a_hot_lead_reaches_the_stores_consoles(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await admin(server, store)
    try:
        trigger = await create(http, rule("Hot", BIG_CART, notify_agents=True))
        async with console(server.ws_url, http) as desk:
            await desk.expect("welcome")
            async with shopper(server, store, "es") as (client, visitor_id, _token):
                await track(
                    client, "page_view", url=PAGE, title="Linen dress", product="linen-dress"
                )
                await add_to_cart(client, 140)
                message = await proactive(client)
                lead = await desk.expect("lead")
        assert lead["fire_id"] == message["data"]["proactive"]["fire_id"]
        assert lead["trigger"] == {"id": trigger["id"], "name": "Hot"}
        assert lead["visitor"]["id"] == visitor_id and lead["visitor"]["language"] == "es"
        assert lead["visitor"]["page"] == {
            "url": PAGE,
            "title": "Linen dress",
            "product": "linen-dress",
        }
        assert lead["visitor"]["cart_value"] == "140"
        assert lead["conversation_id"] == message["conversation_id"]
    finally:
        await http.aclose()


async def test_rules_are_read_by_agents_written_by_admins_and_refused_field_by_field(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await admin(server, store)
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    try:
        body = rule("Abandoned", {"type": "checkout_abandoned", "minutes": 15})
        created = await create(http, body)
        assert created["conditions"] == {
            "match": "all",
            "conditions": [{"type": "checkout_abandoned", "minutes": 15}],
        }
        assert created["stats"] == {"fired": 0, "held_out": 0, "contacted": 0}
        assert {"id", "created_at", "updated_at", "enabled", "priority"} <= set(created)

        listed = (await agent.get("/api/v1/triggers")).json()["triggers"]
        assert [t["name"] for t in listed] == ["Abandoned"]
        refused = await agent.post("/api/v1/triggers", json=rule("Mine", LEAVING))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

        wrong = rule("Wrong", LEAVING, BIG_CART, {"type": "checkout_abandoned"})
        response = await http.post("/api/v1/triggers", json=wrong)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
        assert response.json()["error"]["details"][0]["field"] == "conditions.conditions[2].minutes"

        no_pool = rule("Pool", LEAVING, coupon={"pool_id": 999999})
        response = await http.post("/api/v1/triggers", json=no_pool)
        assert response.json()["error"]["details"][0]["field"] == "actions.coupon.pool_id"

        twice = await http.post("/api/v1/triggers", json=body)
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict"

        changed = await http.put(
            f"/api/v1/triggers/{created['id']}", json={**body, "enabled": False, "priority": 3}
        )
        assert changed.status_code == 200
        assert changed.json()["enabled"] is False and changed.json()["priority"] == 3
        assert (await agent.get(f"/api/v1/triggers/{created['id']}")).json()["priority"] == 3

        assert (await http.delete(f"/api/v1/triggers/{created['id']}")).status_code == 204
        gone = await http.get(f"/api/v1/triggers/{created['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    finally:
        await http.aclose()
        await agent.aclose()


async def test_preview_replays_recent_visitors_against_a_rule(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await admin(server, store)
    try:
        async with shopper(server, store, "es-ES") as (client, visitor_id, _token):
            await track(client, "page_view", url=PAGE, product="linen-dress")
            await add_to_cart(client, 75)
        async with shopper(server, store) as (client, other_id, _token):
            await track(client, "page_view", url="https://shop.example/")
        preview = await http.post(
            "/api/v1/triggers/preview",
            json={
                "conditions": {"match": "all", "conditions": [BIG_CART]},
                "actions": {"message": {"texts": {"en": "Hi"}}},
            },
        )
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["days"] == 7 and body["checked"] >= 2
        matched = {m["visitor_id"]: m for m in body["matched"]}
        assert visitor_id in matched and other_id not in matched
        assert matched[visitor_id]["url"] == PAGE
        assert matched[visitor_id]["language"] == "es-ES"
        wrong = await http.post("/api/v1/triggers/preview", json={"conditions": {}})
        assert wrong.json()["error"]["details"][0]["field"] == "conditions.conditions"
    finally:
        await http.aclose()


async def test_what_a_visitor_did_before_a_restart_still_counts(tmp_path: Path) -> None:
    """The engine rebuilds a visitor from their stored events: a cart filled before the
    server restarted makes a rule true with the exit intent that comes after."""
    live = LiveServer(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'portside.db'}",
        env={"PORTSIDE_AGENT": "off"},
    )
    live.start()
    try:
        async with services_for(live.database_url, live.data_dir) as services:
            own = await make_store(services, origin=live.origin)
        http = await admin(live, own)
        try:
            await create(http, rule("Cart and leaving", BIG_CART, LEAVING))
        finally:
            await http.aclose()
        async with shopper(live, own) as (client, _visitor_id, token):
            await add_to_cart(client, 99)
            await no_proactive(client)
        live.stop()
        live.start()
        async with shopper(live, own, token=token) as (client, _visitor_id, _token):
            await track(client, "exit_intent")
            message = await proactive(client)
            assert message["data"]["proactive"]["open"] is False
    finally:
        live.stop()
