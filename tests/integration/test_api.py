"""The REST API: authentication, CSRF, actions, and isolation between stores."""

from __future__ import annotations

import httpx
import pytest

from portside.services.context import Services
from tests.support.clients import client_id, console, login, widget
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer


async def open_conversation(server: LiveServer, store: StoreFixture, text: str = "hi") -> int:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text=text)
        conversation_id: int = (await shopper.expect("ack"))["conversation_id"]
        return conversation_id


async def test_login_errors_are_clear(server: LiveServer, store: StoreFixture) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        wrong = await http.post(
            "/api/v1/auth/login", json={"email": store.agents[0]["email"], "password": "nope"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_credentials"
        unknown = await http.post(
            "/api/v1/auth/login", json={"email": "who@nowhere.example", "password": "x" * 12}
        )
        assert unknown.json()["error"] == wrong.json()["error"]
        missing = await http.post("/api/v1/auth/login", json={"email": "a@b.example"})
        assert missing.status_code == 400
        assert missing.json()["error"]["code"] == "invalid_request"
        assert (await http.get("/api/v1/conversations")).status_code == 401


async def test_changes_need_the_csrf_token(server: LiveServer, store: StoreFixture) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    conversation_id = await open_conversation(server, store)
    token = http.headers.pop("X-CSRF-Token")
    refused = await http.post(f"/api/v1/conversations/{conversation_id}/resolve")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    refused = await http.post(
        f"/api/v1/conversations/{conversation_id}/resolve", headers={"X-CSRF-Token": "forged"}
    )
    assert refused.status_code == 403
    ok = await http.post(
        f"/api/v1/conversations/{conversation_id}/resolve", headers={"X-CSRF-Token": token}
    )
    assert ok.status_code == 200
    await http.aclose()


async def test_logout_ends_the_session_everywhere(server: LiveServer, store: StoreFixture) -> None:
    agent = store.agents[1]
    laptop = await login(server.base_url, agent["email"], agent["password"])
    phone = await login(server.base_url, agent["email"], agent["password"])
    assert (await phone.get("/api/v1/auth/me")).status_code == 200
    assert (await laptop.post("/api/v1/auth/logout")).status_code == 200
    gone = await phone.get("/api/v1/auth/me")
    assert gone.status_code == 401
    assert gone.json()["error"]["code"] == "not_authenticated"
    await laptop.aclose()
    await phone.aclose()


async def test_status_actions_follow_the_state_machine(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    cid = await open_conversation(server, store)
    base = f"/api/v1/conversations/{cid}"
    assert (await http.post(f"{base}/handoff")).json()["conversation"]["status"] == "queued"
    colleague = store.agents[1]["id"]
    assigned = (await http.post(f"{base}/assign", json={"agent_id": colleague})).json()
    assert assigned["conversation"]["assignee"]["id"] == colleague
    again = await http.post(f"{base}/assign", json={"agent_id": colleague})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_transition"
    unassigned = (await http.post(f"{base}/assign", json={"agent_id": None})).json()
    assert unassigned["conversation"]["status"] == "queued"
    assert (await http.post(f"{base}/handback")).json()["conversation"]["status"] == "bot"
    assert (await http.post(f"{base}/resolve")).json()["conversation"]["status"] == "resolved"
    wrong = await http.post(f"{base}/handoff")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_transition"
    reopened = (await http.post(f"{base}/reopen")).json()["conversation"]
    assert reopened["status"] == "assigned"
    assert reopened["assignee"]["id"] == store.agents[0]["id"]
    mine = (await http.get("/api/v1/conversations?filter=mine")).json()["conversations"]
    assert cid in [c["id"] for c in mine]
    bad_filter = await http.get("/api/v1/conversations?filter=everything")
    assert bad_filter.status_code == 400
    assert "filter" in bad_filter.json()["error"]["message"]
    await http.aclose()


async def test_inbox_pages_with_next_before(server: LiveServer, svc: Services) -> None:
    shop = await make_store(svc, origin=server.origin, agents=1)
    ids = [await open_conversation(server, shop, f"question {n}") for n in range(5)]
    http = await login(server.base_url, shop.agents[0]["email"], shop.agents[0]["password"])
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        page = (await http.get("/api/v1/conversations", params=params)).json()
        seen += [c["id"] for c in page["conversations"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == list(reversed(ids))
    await http.aclose()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/conversations/{id}", None),
        ("GET", "/api/v1/conversations/{id}/events", None),
        ("POST", "/api/v1/conversations/{id}/messages", {"client_id": "x1", "text": "hi"}),
        ("POST", "/api/v1/conversations/{id}/notes", {"client_id": "x2", "text": "hi"}),
        ("POST", "/api/v1/conversations/{id}/resolve", None),
        ("POST", "/api/v1/conversations/{id}/reopen", None),
        ("POST", "/api/v1/conversations/{id}/handoff", None),
        ("POST", "/api/v1/conversations/{id}/handback", None),
        ("POST", "/api/v1/conversations/{id}/assign", {"agent_id": None}),
    ],
)
async def test_another_stores_conversation_looks_like_nothing(
    server: LiveServer, store: StoreFixture, svc: Services, method: str, path: str, body: object
) -> None:
    victim_id = await open_conversation(server, store, "my address is 12 Elm St")
    intruder = await make_store(svc, origin=server.origin, agents=1)
    http = await login(server.base_url, intruder.agents[0]["email"], PASSWORD)
    response = await http.request(method, path.format(id=victim_id), json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    missing = await http.request(method, path.format(id=10**9), json=body)
    assert missing.json() == response.json()
    inbox = (await http.get("/api/v1/conversations")).json()["conversations"]
    assert victim_id not in [c["id"] for c in inbox]
    await http.aclose()


async def test_consoles_and_widgets_only_hear_their_own_store(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    intruder = await make_store(svc, origin=server.origin, agents=1)
    http = await login(server.base_url, intruder.agents[0]["email"], PASSWORD)
    victim_id = await open_conversation(server, store, "first")
    async with console(server.ws_url, http, resume={str(victim_id): 0}) as desk:
        await desk.expect("welcome")
        await desk.send(
            type="message.send", conversation_id=victim_id, client_id=client_id(), text="hi"
        )
        assert (await desk.expect("error"))["code"] == "not_found"
        await desk.send(type="typing", conversation_id=victim_id, state=True)
        assert (await desk.expect("error"))["code"] == "not_found"
        await desk.send(type="sync", conversation_id=victim_id, after_seq=0)
        assert (await desk.expect("error"))["code"] == "not_found"
        await open_conversation(server, store, "second secret")
        assert [f for f in await desk.quiet(1.0) if f["type"] == "event"] == []
    async with widget(server.ws_url, intruder.widget_key, intruder.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send", conversation_id=victim_id, client_id=client_id(), text="x"
        )
        assert (await shopper.expect("error"))["code"] == "not_found"
    await http.aclose()


async def test_store_settings_are_validated(server: LiveServer, store: StoreFixture) -> None:
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    bad = await admin.patch("/api/v1/store", json={"allowed_origins": ["shop.example.com"]})
    assert bad.status_code == 400
    assert "shop.example.com" in bad.json()["error"]["message"]
    bad_zone = await admin.patch("/api/v1/store", json={"timezone": "Mars/Olympus"})
    assert bad_zone.json()["error"]["code"] == "invalid_request"
    ok = await admin.patch(
        "/api/v1/store",
        json={"allowed_origins": [store.origin, "https://Shop.Example.com:443/"]},
    )
    assert ok.json()["allowed_origins"] == sorted([store.origin, "https://shop.example.com"])
    forbidden = await agent.patch("/api/v1/store", json={"name": "Mine now"})
    assert forbidden.status_code == 403
    for client in (admin, agent):
        await client.aclose()


async def test_health_and_headers(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"  # each check: test_readiness.py
        assert "script-src 'self'" in ready.headers["content-security-policy"]
        assert ready.headers["x-content-type-options"] == "nosniff"
        nowhere = await http.get("/api/v1/nothing-here")
        assert nowhere.status_code == 404
        assert nowhere.json()["error"]["code"] == "not_found"
        assert "/api/v1/conversations" in (await http.get("/openapi.json")).json()["paths"]


PASSWORD = "correct horse battery"
