"""Canned replies over the real server: admins and supervisors write them, every agent
of the store reads and uses them, another store never sees them; filled in for a
conversation in the shopper's language, with the order they named last, and with the
gaps marked where a value is missing."""

from __future__ import annotations

from typing import Any

import pytest

from portside.commerce.orders import demo_orders
from portside.services.context import Services
from portside.storage import store_store
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer

TRACKING_ES = "Tu pedido {order.number} está {order.status}. Síguelo aquí: {order.tracking_url}"
TRACKING_EN = "Order {order.number} is {order.status}: {order.tracking_url}"
DHL = (
    "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1"
    "&tracking-id=JD014600003828"
)


async def test_admins_write_agents_read_and_other_stores_see_nothing(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])

    body = {"shortcut": "/tracking", "language": "en", "text": f"  {TRACKING_EN}  "}
    created = await admin.post("/api/v1/canned-replies", json=body)
    assert created.status_code == 201, created.text
    reply = created.json()
    assert (reply["shortcut"], reply["language"], reply["text"]) == ("tracking", "en", TRACKING_EN)
    assert reply["variables"] == ["order.number", "order.status", "order.tracking_url"]
    spanish = await admin.post(
        "/api/v1/canned-replies", json={**body, "language": "es", "text": TRACKING_ES}
    )
    hello = await admin.post(
        "/api/v1/canned-replies",
        json={"shortcut": "hello", "language": "en", "text": "Hi {first_name}, I'm {agent.name}."},
    )
    assert spanish.status_code == hello.status_code == 201

    listed = (await agent.get("/api/v1/canned-replies")).json()
    assert [(r["shortcut"], r["language"]) for r in listed["canned_replies"]] == [
        ("hello", "en"),
        ("tracking", "en"),
        ("tracking", "es"),
    ]
    assert {v["name"] for v in listed["variables"]} >= {"first_name", "order.tracking_url"}
    # By shortcut prefix, or by words of the text; by language.
    found = (await agent.get("/api/v1/canned-replies", params={"q": "/tra"})).json()
    assert [r["shortcut"] for r in found["canned_replies"]] == ["tracking", "tracking"]
    found = (await agent.get("/api/v1/canned-replies", params={"q": "SÍGUELO"})).json()
    assert [r["language"] for r in found["canned_replies"]] == ["es"]
    found = (await agent.get("/api/v1/canned-replies", params={"language": "es"})).json()
    assert [r["id"] for r in found["canned_replies"]] == [spanish.json()["id"]]

    # Agents use them; they do not change them.
    for refused in (
        await agent.post("/api/v1/canned-replies", json={**body, "language": "fr"}),
        await agent.patch(f"/api/v1/canned-replies/{reply['id']}", json={"text": "x"}),
        await agent.delete(f"/api/v1/canned-replies/{reply['id']}"),
    ):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"

    changed = await admin.patch(
        f"/api/v1/canned-replies/{reply['id']}", json={"text": "Order {order.number}."}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["text"] == "Order {order.number}."
    assert changed.json()["shortcut"] == "tracking"
    taken = await admin.patch(f"/api/v1/canned-replies/{reply['id']}", json={"language": "es"})
    assert taken.status_code == 409
    assert taken.json()["error"]["details"][0]["field"] == "shortcut"
    twice = await admin.post("/api/v1/canned-replies", json={**body, "language": "es"})
    assert twice.status_code == 409
    assert "already a canned reply /tracking in es" in twice.json()["error"]["message"]

    other = await make_store(svc, origin=server.origin, agents=1)
    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    assert (await intruder.get("/api/v1/canned-replies")).json()["canned_replies"] == []
    for attempt in (
        await intruder.patch(f"/api/v1/canned-replies/{reply['id']}", json={"text": "mine"}),
        await intruder.delete(f"/api/v1/canned-replies/{reply['id']}"),
    ):
        assert attempt.status_code == 404
    # The same shortcut is free in another store.
    own = await intruder.post("/api/v1/canned-replies", json=body)
    assert own.status_code == 201

    assert (await admin.delete(f"/api/v1/canned-replies/{reply['id']}")).status_code == 204
    assert (await admin.delete(f"/api/v1/canned-replies/{reply['id']}")).status_code == 404
    left = (await agent.get("/api/v1/canned-replies")).json()["canned_replies"]
    assert [(r["shortcut"], r["language"]) for r in left] == [("hello", "en"), ("tracking", "es")]
    for http in (admin, agent, intruder):
        await http.aclose()


@pytest.mark.parametrize(
    ("body", "field", "complaint"),
    [
        (
            {"shortcut": "track", "language": "en", "text": "Hi {firstname}"},
            "text",
            "not a variable",
        ),
        ({"shortcut": "track", "language": "en", "text": "Hi {first_name"}, "text", "not closed"),
        ({"shortcut": "track", "language": "en", "text": "Hi first_name}"}, "text", "closes no"),
        ({"shortcut": "track", "language": "en", "text": "   "}, "text", "needs its text"),
        ({"shortcut": "track", "language": "en", "text": "x" * 4001}, "text", "at most 4000"),
        ({"shortcut": "Track It", "language": "en", "text": "Hi"}, "shortcut", "lowercase"),
        ({"shortcut": "track", "language": "pt-BR", "text": "Oi"}, "language", "language code"),
        ({"shortcut": "track", "language": "xq", "text": "Oi"}, "language", "not a language"),
        ({"shortcut": "track", "text": "Hi"}, "language", "needs its language"),
        ({"shortcut": "track", "language": "en", "text": "Hi", "tags": []}, "tags", "tags"),
    ],
)
async def test_a_bad_reply_is_refused_naming_its_field(
    server: LiveServer, store: StoreFixture, body: dict[str, Any], field: str, complaint: str
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    response = await admin.post("/api/v1/canned-replies", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert complaint in error["message"] or complaint in str(error["details"])
    assert error["details"][0]["field"] == field
    assert (await admin.get("/api/v1/canned-replies")).json()["canned_replies"] == []
    await admin.aclose()


async def test_a_reply_is_filled_in_for_the_conversation_with_the_order_named_last(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    today = svc.clock.now().date()
    await svc.db.write(lambda conn: store_store.upsert_orders(conn, store.id, demo_orders(today)))
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    for language, text in (("en", TRACKING_EN), ("es", TRACKING_ES)):
        await admin.post(
            "/api/v1/canned-replies",
            json={"shortcut": "tracking", "language": language, "text": text},
        )
    await admin.post(
        "/api/v1/canned-replies",
        json={
            "shortcut": "hola",
            "language": "es",
            "text": "¡Hola, {first_name}! Soy {agent.name}.",
        },
    )

    hello = {"context": {"language": "es-ES"}}
    async with widget(server.ws_url, store.widget_key, store.origin, hello=hello) as shopper:
        visitor_id = (await shopper.expect("welcome"))["visitor"]["id"]
        await shopper.send(
            type="message.send", client_id=client_id(), text="¿Dónde está mi pedido LP10231?"
        )
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
        path = f"/api/v1/conversations/{conversation_id}/canned-replies"

        found = (await agent.get(path, params={"q": "track"})).json()
        assert found["language"] == "es"
        (tracking,) = found["canned_replies"]
        assert tracking["language"] == "es"
        assert tracking["languages"] == ["en", "es"]
        assert tracking["template"] == TRACKING_ES
        # The status as the AI agent says it in Spanish; the carrier's tracking page.
        assert tracking["text"] == f"Tu pedido LP10231 está en camino. Síguelo aquí: {DHL}"
        assert tracking["missing"] == []

        # No name known yet: the gap is left in the text and listed, never dropped.
        (greeting,) = (await agent.get(path, params={"q": "hola"})).json()["canned_replies"]
        assert greeting["text"] == f"¡Hola, {{first_name}}! Soy {store.agents[1]['name']}."
        assert greeting["missing"] == ["first_name"]
        await svc.db.write(
            lambda conn: store_store.update_visitor(
                conn, visitor_id, now=svc.clock.now(), name="Ana García"
            )
        )
        (greeting,) = (await agent.get(path, params={"q": "hola"})).json()["canned_replies"]
        assert greeting["text"] == f"¡Hola, Ana! Soy {store.agents[1]['name']}."
        assert greeting["missing"] == []

        # A later order, delivered by a carrier without a tracking page.
        await shopper.send(
            type="message.send", client_id=client_id(), text="Y también el #10233, por favor"
        )
        await shopper.expect("ack")
        (tracking,) = (await agent.get(path, params={"q": "tracking"})).json()["canned_replies"]
        assert tracking["text"] == (
            "Tu pedido LP10233 está entregado. Síguelo aquí: {order.tracking_url}"
        )
        assert tracking["missing"] == ["order.tracking_url"]

        # Everything, by shortcut, when nothing is typed after "/".
        every = (await agent.get(path)).json()["canned_replies"]
        assert [r["shortcut"] for r in every] == ["hola", "tracking"]

    # Another store's agent can neither fill in this conversation nor see these replies.
    other = await make_store(svc, origin=server.origin, agents=1)
    intruder = await login(server.base_url, other.agents[0]["email"], other.agents[0]["password"])
    response = await intruder.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    for http in (admin, agent, intruder):
        await http.aclose()
