"""CSAT over the real server: a resolution asks the shopper, in their language, for a
rating; the widget answers once; agents see it; the summary counts it for the agent who
had the conversation, or for the bot."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.clients import WsClient, client_id, console, login, widget
from tests.support.factories import StoreFixture
from tests.support.server import LiveServer

SPANISH = {"context": {"language": "es-ES", "url": "https://shop.example/"}}


def is_event(kind: str) -> Any:
    return lambda frame: frame["event"]["type"] == kind


async def say(shopper: WsClient, text: str) -> int:
    """Send and wait for this message's own ack (a rating's ack may be waiting too)."""
    cid = client_id()
    await shopper.send(type="message.send", client_id=cid, text=text)
    ack = await shopper.expect("ack", where=lambda f: f.get("client_id") == cid)
    conversation_id: int = ack["conversation_id"]
    return conversation_id


async def rate(shopper: WsClient, conversation_id: int, resolved_seq: int, **answer: Any) -> None:
    await shopper.send(
        type="csat.submit",
        ref=f"csat-{conversation_id}-{resolved_seq}",
        conversation_id=conversation_id,
        resolved_seq=resolved_seq,
        **answer,
    )


async def summary(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/api/v1/ratings/summary")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def for_agent(body: dict[str, Any], agent_id: int) -> dict[str, Any] | None:
    return next((row for row in body["agents"] if (row["agent"] or {}).get("id") == agent_id), None)


async def test_the_shopper_rates_the_agent_who_resolved_and_agents_see_it(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    carlos_id = store.agents[1]["id"]
    carlos = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin, hello=SPANISH) as shopper:
        await shopper.expect("welcome")
        conversation_id = await say(shopper, "Hola, ¿me ayudan con una talla?")
        reply = await carlos.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": "¡Claro! ¿Qué talla usas?"},
        )
        assert reply.status_code == 201
        async with console(server.ws_url, carlos) as desk:
            await desk.expect("welcome")
            await desk.send(type="follow", conversation_id=conversation_id)
            resolved = await carlos.post(f"/api/v1/conversations/{conversation_id}/resolve")
            assert resolved.status_code == 200, resolved.text
            resolved_seq = resolved.json()["event"]["seq"]

            asked = (await shopper.expect("event", where=is_event("csat.requested")))["event"]
            assert asked["seq"] == resolved_seq + 1
            assert asked["actor"]["type"] == "system"
            assert asked["data"] == {
                "resolved_seq": resolved_seq,
                "language": "es",
                "resolved_by": "agent",
            }
            await rate(shopper, conversation_id, resolved_seq, score=4, comment="  Muy amable  ")
            ack = await shopper.expect("ack")
            assert ack["ref"] == f"csat-{conversation_id}-{resolved_seq}"
            thanks = (await shopper.expect("event", where=is_event("csat.rated")))["event"]
            assert thanks["seq"] == ack["seq"]
            seen = (await desk.expect("event", where=is_event("csat.rated")))["event"]
            assert seen["data"] == {
                "resolved_seq": resolved_seq,
                "score": 4,
                "comment": "Muy amable",
                "resolved_by": "agent",
                "agent_id": carlos_id,
            }

        # Once per request: the second answer is refused and changes nothing.
        await rate(shopper, conversation_id, resolved_seq, score=1)
        refused = await shopper.expect("error")
        assert refused["code"] == "already_rated"
        assert refused["ref"] == f"csat-{conversation_id}-{resolved_seq}"

    body = await summary(admin)
    assert for_agent(body, carlos_id) == {
        "agent": {"id": carlos_id, "name": store.agents[1]["name"]},
        "average": 4.0,
        "count": 1,
        "requested": 1,
    }
    assert body["bot"] == {"average": None, "count": 0, "requested": 0}
    # The ratings of people are for supervisors and admins.
    denied = await carlos.get("/api/v1/ratings/summary")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    events = (await admin.get(f"/api/v1/conversations/{conversation_id}/events")).json()["events"]
    assert [e["type"] for e in events].count("csat.rated") == 1
    for http in (admin, carlos):
        await http.aclose()


async def test_a_conversation_only_the_bot_had_is_the_bots_rating(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    english = {"context": {"language": "en-US"}}
    async with widget(server.ws_url, store.widget_key, store.origin, hello=english) as shopper:
        await shopper.expect("welcome")
        conversation_id = await say(shopper, "thanks, that's all I needed")
        resolved = await admin.post(f"/api/v1/conversations/{conversation_id}/resolve")
        resolved_seq = resolved.json()["event"]["seq"]
        asked = (await shopper.expect("event", where=is_event("csat.requested")))["event"]
        assert asked["data"]["resolved_by"] == "bot"
        assert asked["data"]["language"] == "en"
        await rate(shopper, conversation_id, resolved_seq, score=5)
        await shopper.expect("event", where=is_event("csat.rated"))

        # The shopper writes again (back to the bot), a person takes it this time, and the
        # admin resolves it: the second rating is the person's who had it.
        await say(shopper, "one more thing: do you ship to Canada?")
        colleague = store.agents[1]["id"]
        assign = await admin.post(
            f"/api/v1/conversations/{conversation_id}/assign", json={"agent_id": colleague}
        )
        assert assign.status_code == 200, assign.text
        again = await admin.post(f"/api/v1/conversations/{conversation_id}/resolve")
        second_seq = again.json()["event"]["seq"]
        second = (await shopper.expect("event", where=is_event("csat.requested")))["event"]
        assert second["data"]["resolved_seq"] == second_seq != resolved_seq
        assert second["data"]["resolved_by"] == "agent"
        await rate(shopper, conversation_id, second_seq, score=2, comment="slow")
        await shopper.expect("event", where=is_event("csat.rated"))

    body = await summary(admin)
    assert body["bot"] == {"average": 5.0, "count": 1, "requested": 1}
    assert for_agent(body, colleague) == {
        "agent": {"id": colleague, "name": store.agents[1]["name"]},
        "average": 2.0,
        "count": 1,
        "requested": 1,
    }
    await admin.aclose()


async def test_bad_answers_are_refused_and_nothing_is_stored(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        conversation_id = await say(shopper, "hello")
        resolved = await admin.post(f"/api/v1/conversations/{conversation_id}/resolve")
        resolved_seq = resolved.json()["event"]["seq"]
        await shopper.expect("event", where=is_event("csat.requested"))

        for answer, code in [
            ({"score": 6}, "invalid_request"),
            ({"score": 0}, "invalid_request"),
            ({"score": "5"}, "invalid_request"),
            ({"score": 3, "comment": "x" * 1001}, "invalid_request"),
            ({}, "invalid_request"),
        ]:
            await rate(shopper, conversation_id, resolved_seq, **answer)
            error = await shopper.expect("error")
            assert error["code"] == code, (answer, error)
        # A point of the conversation where nothing was asked; another's conversation.
        await rate(shopper, conversation_id, resolved_seq + 5, score=3)
        assert (await shopper.expect("error"))["code"] == "not_found"
        await rate(shopper, conversation_id + 10_000, resolved_seq, score=3)
        assert (await shopper.expect("error"))["code"] == "not_found"
        await shopper.send(type="csat.submit", conversation_id=conversation_id, score=3)
        assert (await shopper.expect("error"))["code"] == "malformed_frame"
        later = [f["event"]["type"] for f in await shopper.quiet(0.3) if f["type"] == "event"]
        assert "csat.rated" not in later

    events = (await admin.get(f"/api/v1/conversations/{conversation_id}/events")).json()["events"]
    assert "csat.rated" not in [e["type"] for e in events]
    assert (await summary(admin))["bot"] == {"average": None, "count": 0, "requested": 1}
    await admin.aclose()


async def test_two_answers_at_once_store_one(server: LiveServer, store: StoreFixture) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as first:
        welcome = await first.expect("welcome")
        conversation_id = await say(first, "hi")
        resolved = await admin.post(f"/api/v1/conversations/{conversation_id}/resolve")
        resolved_seq = resolved.json()["event"]["seq"]
        # The same shopper in a second tab.
        same = {"token": welcome["visitor"]["token"]}
        async with widget(server.ws_url, store.widget_key, store.origin, hello=same) as second:
            await second.expect("welcome")
            await asyncio.gather(
                rate(first, conversation_id, resolved_seq, score=5),
                rate(second, conversation_id, resolved_seq, score=1),
            )
            answers = [await _answer(tab) for tab in (first, second)]
    assert sorted(answers) == ["ack", "already_rated"]
    body = await summary(admin)
    assert body["bot"]["count"] == 1
    assert body["bot"]["average"] in (5.0, 1.0)
    await admin.aclose()


async def _answer(tab: WsClient) -> str:
    """The answer to a tab's csat.submit: "ack", or the error's code."""
    while True:
        frame = await tab.next()
        if frame["type"] == "ack":
            return "ack"
        if frame["type"] == "error":
            return str(frame["code"])


async def test_a_store_that_turns_csat_off_asks_nothing(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    assert (await admin.get("/api/v1/settings/csat")).json() == {"enabled": True}
    off = await admin.put("/api/v1/settings/csat", json={"enabled": False})
    assert off.status_code == 200, off.text
    assert off.json() == {"enabled": False}
    wrong = await admin.put("/api/v1/settings/csat", json={"enabled": "no"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["field"] == "enabled"
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        conversation_id = await say(shopper, "hello")
        await admin.post(f"/api/v1/conversations/{conversation_id}/resolve")
        await shopper.expect("event", where=lambda f: f["event"]["data"].get("to") == "resolved")
        later = [f["event"]["type"] for f in await shopper.quiet(0.5) if f["type"] == "event"]
        assert "csat.requested" not in later
    assert (await summary(admin))["bot"]["requested"] == 0
    await admin.aclose()


async def test_answers_are_rate_limited_like_messages(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        conversation_id = await say(shopper, "hello")
        # 20 answers in 10 s (PORTSIDE_MESSAGES_PER_10S) are looked at; the next is not.
        for _ in range(21):
            await rate(shopper, conversation_id, 99, score=3)
        codes = [(await shopper.expect("error"))["code"] for _ in range(21)]
    assert codes == ["not_found"] * 20 + ["rate_limited"]
