"""Shopping behaviour over a real server: the `track` and `identify` frames, the beacon
endpoint, reading events back, and isolation between stores."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from portside.domain.identify import identify_hash
from portside.services.context import Services
from tests.support.clients import WsClient, login, widget
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer

SECRET = "s3cret-for-identify-0123456789"


def event(kind: str, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"client_id": f"e-{uuid.uuid4().hex}", "type": kind, "data": data or {}, **extra}


def page_view(
    url: str = "https://shop.example/products/linen-shirt?utm_source=ig",
) -> dict[str, Any]:
    return event(
        "page_view",
        {"url": url, "title": "Linen shirt", "product": "linen-shirt", "referrer": ""},
    )


async def welcome(shopper: WsClient) -> tuple[int, str]:
    frame = await shopper.expect("welcome")
    return int(frame["visitor"]["id"]), str(frame["visitor"]["token"])


@contextlib.asynccontextmanager
async def agent_http(
    server: LiveServer, person: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    http = await login(server.base_url, person["email"], person["password"])
    try:
        yield http
    finally:
        await http.aclose()


async def answer(shopper: WsClient, ref: str) -> dict[str, Any]:
    """The track.ack, identify.ack or error that answers the frame with `ref`."""
    while True:
        frame = await shopper.next()
        if frame.get("ref") == ref:
            return frame


async def send(shopper: WsClient, ref: str, **frame: Any) -> dict[str, Any]:
    await shopper.send(ref=ref, **frame)
    return await answer(shopper, ref)


async def test_events_over_the_socket_are_stored_once_and_read_back(
    server: LiveServer, store: StoreFixture
) -> None:
    batch = [
        page_view(),
        event("exit_intent"),
        event("page_time", {"visible_ms": 1500, "idle_ms": 0}),
    ]
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        visitor_id, _token = await welcome(shopper)
        ack = await send(shopper, "a", type="track", session_id="s-1", events=batch)
        assert ack["type"] == "track.ack"
        assert (ack["stored"], ack["duplicates"]) == (3, 0)
        # The same batch again (a resend after a lost ack): nothing new.
        again = await send(shopper, "b", type="track", session_id="s-1", events=batch)
        assert (again["stored"], again["duplicates"]) == (0, 3)
    async with agent_http(server, store.agents[1]) as http:
        got = (await http.get(f"/api/v1/visitors/{visitor_id}/events")).json()
    assert [e["type"] for e in got["events"]] == ["page_time", "exit_intent", "page_view"]
    assert got["next_before"] is None
    view = got["events"][2]
    assert view["url"] == batch[0]["data"]["url"]
    assert view["session_id"] == "s-1"
    assert view["data"]["utm"] == {"source": "ig"}
    assert view["data"]["referrer"] is None
    assert view["data"]["product"] == "linen-shirt"
    assert view["at"].endswith("Z")


async def test_bad_batches_are_refused_whole_with_clear_errors(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        visitor_id, _token = await welcome(shopper)
        good = page_view()
        bad = event("add_to_cart", {"product": "linen-shirt", "quantity": -1})
        refused = await send(shopper, "x", type="track", session_id="s-1", events=[good, bad])
        assert refused["type"] == "error"
        assert refused["code"] == "invalid_event"
        assert "quantity" in refused["message"]
        for frame in (
            {"session_id": "s-1", "events": "page_view"},
            {"session_id": "s-1", "events": [page_view() for _ in range(51)]},
            {"session_id": "has space", "events": [page_view()]},
            {"events": [page_view()]},
        ):
            error = await send(shopper, "m", type="track", **frame)
            assert error["code"] == "malformed_frame", frame
        custom = event("custom", {"name": "Wishlist Add", "properties": {}})
        error = await send(shopper, "c", type="track", session_id="s-1", events=[custom])
        assert error["code"] == "invalid_event"
        nested = event("custom", {"name": "wishlist_add", "properties": {"a": {"b": 1}}})
        error = await send(shopper, "n", type="track", session_id="s-1", events=[nested])
        assert error["code"] == "invalid_event"
        # Nothing of the refused batches was stored: the good page_view is sent again
        # and is new.
        ack = await send(shopper, "g", type="track", session_id="s-1", events=[good])
        assert (ack["stored"], ack["duplicates"]) == (1, 0)
    assert visitor_id > 0


async def test_the_beacon_stores_events_and_refuses_strangers(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        visitor_id, token = await welcome(shopper)
        sent_by_socket = page_view()
        await send(shopper, "a", type="track", session_id="s-9", events=[sent_by_socket])
    leaving = event("page_time", {"visible_ms": 42_000, "idle_ms": 3000})
    body = {
        "store": store.widget_key,
        "token": token,
        "session_id": "s-9",
        "events": [sent_by_socket, leaving],
    }
    headers = {"Origin": store.origin, "Content-Type": "text/plain;charset=UTF-8"}
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        ok = await http.post("/api/v1/track", content=json.dumps(body), headers=headers)
        assert ok.status_code == 204, ok.text
        again = await http.post("/api/v1/track", content=json.dumps(body), headers=headers)
        assert again.status_code == 204

        def refused(response: httpx.Response, status: int, code: str) -> None:
            assert response.status_code == status, response.text
            assert response.json()["error"]["code"] == code

        other_origin = {**headers, "Origin": "https://evil.example"}
        refused(
            await http.post("/api/v1/track", content=json.dumps(body), headers=other_origin),
            403,
            "origin_not_allowed",
        )
        no_origin = {"Content-Type": "text/plain"}
        refused(
            await http.post("/api/v1/track", content=json.dumps(body), headers=no_origin),
            403,
            "origin_not_allowed",
        )
        forged = json.dumps({**body, "token": token[:-4] + "AAAA"})
        refused(
            await http.post("/api/v1/track", content=forged, headers=headers), 401, "token_invalid"
        )
        unknown = json.dumps({**body, "store": "pk_nobody"})
        refused(
            await http.post("/api/v1/track", content=unknown, headers=headers), 404, "unknown_store"
        )
        refused(
            await http.post("/api/v1/track", content="{not json", headers=headers),
            400,
            "invalid_request",
        )
        form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        refused(
            await http.post("/api/v1/track", content=json.dumps(body), headers=form),
            415,
            "unsupported_media_type",
        )
        bad = json.dumps({**body, "events": [event("idle", {"idle": "yes"})]})
        refused(
            await http.post("/api/v1/track", content=bad, headers=headers), 400, "invalid_event"
        )
        huge = "x" * (300 * 1024)
        refused(await http.post("/api/v1/track", content=huge, headers=headers), 413, "too_large")

        # A token of another store is refused even with this store's key.
        other = await make_store(svc, origin=store.origin)
        elsewhere = json.dumps({**body, "store": other.widget_key})
        refused(
            await http.post("/api/v1/track", content=elsewhere, headers=headers),
            401,
            "token_invalid",
        )

    async with agent_http(server, store.agents[0]) as agent:
        got = (await agent.get(f"/api/v1/visitors/{visitor_id}/events")).json()["events"]
    assert [(e["type"], e["session_id"]) for e in got] == [
        ("page_time", "s-9"),
        ("page_view", "s-9"),
    ]
    assert got[0]["data"] == {"visible_ms": 42_000, "idle_ms": 3000}


async def test_identify_needs_the_stores_hmac(server: LiveServer, store: StoreFixture) -> None:
    customer = {"id": "cust-881", "email": "ana@example.com", "name": "Ana", "tags": ["vip"]}
    admin_person = store.agents[0]
    async with agent_http(server, admin_person) as admin:
        async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
            visitor_id, _token = await welcome(shopper)
            hash_ = identify_hash(SECRET, "cust-881")
            no_secret = await send(shopper, "i", type="identify", customer=customer, hash=hash_)
            assert no_secret["code"] == "identify_refused"
            assert "identify_secret" in no_secret["message"]

            put = await admin.put(
                "/api/v1/settings/tracking", json={"retention_days": 30, "identify_secret": SECRET}
            )
            assert put.status_code == 200, put.text
            assert put.json() == {"retention_days": 30, "has_identify_secret": True}
            shown = (await admin.get("/api/v1/settings/tracking")).json()
            assert SECRET not in json.dumps(shown)

            wrong = identify_hash(SECRET, "cust-882")
            refused = await send(shopper, "w", type="identify", customer=customer, hash=wrong)
            assert refused["code"] == "identify_refused"
            garbage = await send(shopper, "g", type="identify", customer=customer, hash="zz")
            assert garbage["code"] == "identify_refused"
            malformed = await send(
                shopper, "m", type="identify", customer={"email": "x@y"}, hash=hash_
            )
            assert malformed["code"] == "malformed_frame"

            ok = await send(shopper, "o", type="identify", customer=customer, hash=hash_.upper())
            assert ok["type"] == "identify.ack"
            assert ok["customer"]["customer_id"] == "cust-881"
            assert ok["customer"]["tags"] == ["vip"]

        # A PUT without the secret keeps it; an empty one removes it.
        kept = await admin.put("/api/v1/settings/tracking", json={"retention_days": 60})
        assert kept.json() == {"retention_days": 60, "has_identify_secret": True}
        short = await admin.put("/api/v1/settings/tracking", json={"identify_secret": "short"})
        assert short.status_code == 400
        assert short.json()["error"]["details"][0]["field"] == "identify_secret"
        days = await admin.put("/api/v1/settings/tracking", json={"retention_days": 0})
        assert days.json()["error"]["details"][0]["field"] == "retention_days"
        gone = await admin.put("/api/v1/settings/tracking", json={"identify_secret": ""})
        assert gone.json() == {"retention_days": 90, "has_identify_secret": False}
    assert visitor_id > 0


async def test_events_are_queried_per_store_only(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    other = await make_store(svc, origin=server.origin)
    ids: dict[str, int] = {}
    for fixture, label in ((store, "mine"), (other, "theirs")):
        async with widget(server.ws_url, fixture.widget_key, fixture.origin) as shopper:
            ids[label], _ = await welcome(shopper)
            batch = [page_view(f"https://shop.example/{label}/{i}") for i in range(5)]
            batch.append(
                event(
                    "add_to_cart",
                    {
                        "product": "linen-shirt",
                        "price": "59.90",
                        "cart_value": 59.9,
                        "currency": "eur",
                    },
                )
            )
            ack = await send(shopper, "a", type="track", session_id="s", events=batch)
            assert ack["stored"] == 6
    person = store.agents[1]
    async with agent_http(server, person) as http:
        theirs = await http.get(f"/api/v1/visitors/{ids['theirs']}/events")
        assert theirs.status_code == 404
        assert theirs.json()["error"]["code"] == "not_found"

        everything = (await http.get("/api/v1/events", params={"limit": 500})).json()["events"]
        assert {e["visitor_id"] for e in everything} == {ids["mine"]}
        assert all("/theirs/" not in (e["url"] or "") for e in everything)

        carts = (await http.get("/api/v1/events", params={"type": "add_to_cart"})).json()
        assert [e["type"] for e in carts["events"]] == ["add_to_cart"]
        cart = carts["events"][0]["data"]
        assert (cart["price"], cart["cart_value"], cart["currency"]) == ("59.9", "59.9", "EUR")

        first = (
            await http.get(
                f"/api/v1/visitors/{ids['mine']}/events", params={"type": "page_view", "limit": 2}
            )
        ).json()
        assert [e["url"] for e in first["events"]] == [
            "https://shop.example/mine/4",
            "https://shop.example/mine/3",
        ]
        rest = (
            await http.get(
                f"/api/v1/visitors/{ids['mine']}/events",
                params={"type": "page_view", "limit": 10, "before": first["next_before"]},
            )
        ).json()
        assert [e["url"][-1] for e in rest["events"]] == ["2", "1", "0"]
        assert rest["next_before"] is None

        future = (await http.get("/api/v1/events", params={"from": "2999-01-01T00:00:00Z"})).json()
        assert future["events"] == []
        past = (await http.get("/api/v1/events", params={"to": "2000-01-01T00:00:00Z"})).json()
        assert past["events"] == []
        bad_type = await http.get("/api/v1/events", params={"type": "page_view,nope"})
        assert bad_type.status_code == 400
        assert bad_type.json()["error"]["details"][0]["field"] == "type"
        bad_time = await http.get("/api/v1/events", params={"from": "yesterday"})
        assert bad_time.json()["error"]["details"][0]["field"] == "from"
