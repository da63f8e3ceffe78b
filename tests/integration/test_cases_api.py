"""Cases over the REST API: agents list, read and decide the returns and exchanges the
bot opened; each decision is an internal note in the conversation, live to consoles and
never to the shopper; other stores see nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from portside.services.context import Services
from tests.support.clients import client_id, console, login, widget
from tests.support.factories import PASSWORD, RETURN_CASE, StoreFixture, make_case, make_store
from tests.support.server import LiveServer


async def open_conversation(server: LiveServer, store: StoreFixture, text: str = "hi") -> int:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text=text)
        conversation_id: int = (await shopper.expect("ack"))["conversation_id"]
        return conversation_id


async def agent_http(server: LiveServer, store: StoreFixture, n: int = 0) -> httpx.AsyncClient:
    return await login(server.base_url, store.agents[n]["email"], store.agents[n]["password"])


def notes_about(events: list[dict[str, Any]], case_id: int) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["type"] == "note.created" and e["data"].get("case", {}).get("id") == case_id
    ]


async def test_cases_are_listed_by_status_and_by_conversation(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await agent_http(server, store)
    first = await open_conversation(server, store, "this shirt is too small")
    second = await open_conversation(server, store, "wrong colour")
    a = await make_case(svc, store.id, first)
    b = await make_case(svc, store.id, first, kind="return")
    c = await make_case(svc, store.id, second)
    assert (await http.patch(f"/api/v1/cases/{b}", json={"status": "rejected"})).status_code == 200

    listed = (await http.get("/api/v1/cases")).json()["cases"]
    assert [x["id"] for x in listed if x["id"] in {a, b, c}] == [c, b, a]  # newest first
    by_conversation = (await http.get(f"/api/v1/cases?conversation_id={first}")).json()["cases"]
    assert [x["id"] for x in by_conversation] == [b, a]
    opened = (await http.get(f"/api/v1/cases?conversation_id={first}&status=open")).json()
    assert [x["id"] for x in opened["cases"]] == [a]
    rejected = (await http.get("/api/v1/cases?status=rejected")).json()["cases"]
    assert b in [x["id"] for x in rejected]
    assert a not in [x["id"] for x in rejected]

    one = (await http.get(f"/api/v1/cases/{a}")).json()
    assert one["conversation_id"] == first
    assert one["kind"] == "exchange"
    assert one["status"] == "open"
    assert one["data"]["order"] == RETURN_CASE["order"]
    assert one["data"]["items"][0]["sku"] == "LS-M-BLUE"
    assert one["data"]["words"] == RETURN_CASE["words"]
    await http.aclose()


async def test_approving_writes_a_note_consoles_see_and_the_shopper_never_does(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await agent_http(server, store)
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="too small")
        cid: int = (await shopper.expect("ack"))["conversation_id"]
        case_id = await make_case(svc, store.id, cid)
        async with console(server.ws_url, http) as desk:
            await desk.expect("welcome")
            await desk.send(type="follow", conversation_id=cid)
            # Frames are handled in order: once synced answers, the follow holds.
            await desk.send(type="sync", conversation_id=cid, after_seq=0)
            await desk.expect("synced", where=lambda f: f.get("conversation_id") == cid)

            approved = await http.patch(
                f"/api/v1/cases/{case_id}", json={"status": "approved", "note": "  send the L  "}
            )
            assert approved.status_code == 200, approved.text
            body = approved.json()
            assert body["case"]["status"] == "approved"
            (decision,) = body["case"]["data"]["history"]
            assert decision["status"] == "approved"
            assert decision["note"] == "send the L"
            assert decision["by"] == {"id": store.agents[0]["id"], "name": store.agents[0]["name"]}
            assert body["event"]["type"] == "note.created"
            assert body["event"]["data"]["text"] == f"Exchange #{case_id} approved: send the L"

            live = await desk.expect("event", where=lambda f: f["event"]["type"] == "note.created")
            assert live["event"] == body["event"]

        # The shopper's next event is the agent's reply: the note never came in between.
        reply = await http.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"client_id": client_id(), "text": "We will send a size L."},
        )
        assert reply.status_code == 201
        seen = await shopper.expect(
            "event",
            where=lambda f: (
                f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "agent"
            ),
        )
        assert seen["event"]["data"]["text"] == "We will send a size L."
        # Everything before the reply reached the widget (in log order) and is kept.
        assert [f for f in shopper.backlog if f["type"] == "event"] != []
        assert all(f.get("event", {}).get("type") != "note.created" for f in shopper.backlog)

    closed = await http.patch(f"/api/v1/cases/{case_id}", json={"status": "closed"})
    assert closed.json()["case"]["status"] == "closed"
    assert closed.json()["event"]["data"]["text"] == f"Exchange #{case_id} closed."
    events = (await http.get(f"/api/v1/conversations/{cid}/events")).json()["events"]
    assert [n["data"]["case"]["status"] for n in notes_about(events, case_id)] == [
        "approved",
        "closed",
    ]
    await http.aclose()


async def test_refused_moves_say_what_the_case_is(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    http = await agent_http(server, store)
    cid = await open_conversation(server, store)
    case_id = await make_case(svc, store.id, cid, kind="return")
    assert (await http.patch(f"/api/v1/cases/{case_id}", json={"status": "rejected"})).is_success

    again = await http.patch(f"/api/v1/cases/{case_id}", json={"status": "rejected"})
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "conflict",
        "message": "This case is already rejected.",
    }
    flip = await http.patch(f"/api/v1/cases/{case_id}", json={"status": "approved"})
    assert flip.status_code == 409
    assert flip.json()["error"]["message"] == "A case that is rejected cannot become approved."
    assert (await http.patch(f"/api/v1/cases/{case_id}", json={"status": "closed"})).is_success
    final = await http.patch(f"/api/v1/cases/{case_id}", json={"status": "approved"})
    assert final.json()["error"]["message"] == "A case that is closed cannot become approved."

    events = (await http.get(f"/api/v1/conversations/{cid}/events")).json()["events"]
    assert len(notes_about(events, case_id)) == 2  # refused moves leave nothing behind
    await http.aclose()


async def test_two_agents_approving_at_once_one_wins(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    mei = await agent_http(server, store, 0)
    ana = await agent_http(server, store, 1)
    cid = await open_conversation(server, store)
    for _ in range(3):
        case_id = await make_case(svc, store.id, cid)
        answers = await asyncio.gather(
            mei.patch(f"/api/v1/cases/{case_id}", json={"status": "approved"}),
            ana.patch(f"/api/v1/cases/{case_id}", json={"status": "approved", "note": "ok"}),
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json()["error"]["message"] == "This case is already approved."
        winner = next(a for a in answers if a.status_code == 200)
        case = (await mei.get(f"/api/v1/cases/{case_id}")).json()
        assert case["data"]["history"] == winner.json()["case"]["data"]["history"]
        assert len(case["data"]["history"]) == 1
        events = (await mei.get(f"/api/v1/conversations/{cid}/events")).json()["events"]
        assert len(notes_about(events, case_id)) == 1
    await mei.aclose()
    await ana.aclose()


async def test_another_stores_cases_look_like_nothing(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    cid = await open_conversation(server, store, "my order LP-10023")
    case_id = await make_case(svc, store.id, cid)
    intruder = await make_store(svc, origin=server.origin, agents=1)
    http = await login(server.base_url, intruder.agents[0]["email"], PASSWORD)

    for response in (
        await http.get(f"/api/v1/cases/{case_id}"),
        await http.patch(f"/api/v1/cases/{case_id}", json={"status": "approved"}),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "This case does not exist.",
        }
    assert (await http.get("/api/v1/cases")).json()["cases"] == []
    assert (await http.get(f"/api/v1/cases?conversation_id={cid}")).json()["cases"] == []

    owner = await agent_http(server, store)
    assert (await owner.get(f"/api/v1/cases/{case_id}")).json()["status"] == "open"
    await http.aclose()
    await owner.aclose()


@pytest.mark.parametrize(
    ("body", "field", "complaint"),
    [
        ({"status": "maybe"}, "status", "status must be one of approved, rejected, closed"),
        ({"status": "open"}, "status", "not 'open'"),
        ({}, "status", "check status"),
        ({"status": 3}, "status", "check status"),
        ({"status": "approved", "note": "x" * 1001}, "note", "at most 1000 characters"),
        ({"status": "approved", "note": 7}, "note", "check note"),
        ({"status": "approved", "colour": "red"}, "colour", "check colour"),
    ],
)
async def test_bad_decisions_are_refused_with_the_field(
    server: LiveServer,
    store: StoreFixture,
    svc: Services,
    body: dict[str, Any],
    field: str,
    complaint: str,
) -> None:
    http = await agent_http(server, store)
    cid = await open_conversation(server, store)
    case_id = await make_case(svc, store.id, cid)
    response = await http.patch(f"/api/v1/cases/{case_id}", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert complaint in error["message"]
    assert [d["field"] for d in error["details"]] == [field]
    assert (await http.get(f"/api/v1/cases/{case_id}")).json()["status"] == "open"
    await http.aclose()


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=lost", "status"), ("limit=0", "limit"), ("conversation_id=x", "conversation_id")],
)
async def test_bad_list_queries_name_the_field(
    server: LiveServer, store: StoreFixture, query: str, field: str
) -> None:
    http = await agent_http(server, store)
    response = await http.get(f"/api/v1/cases?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in [d["field"].split(".")[-1] for d in response.json()["error"]["details"]]
    await http.aclose()


async def test_cases_need_a_session_and_csrf(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    cid = await open_conversation(server, store)
    case_id = await make_case(svc, store.id, cid)
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        assert (await anonymous.get("/api/v1/cases")).status_code == 401
    http = await agent_http(server, store)
    http.headers.pop("X-CSRF-Token")
    refused = await http.patch(f"/api/v1/cases/{case_id}", json={"status": "approved"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    await http.aclose()
