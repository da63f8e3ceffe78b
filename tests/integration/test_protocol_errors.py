"""Every mistake a client can make over the socket gets its documented answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from portside.services.context import Services
from tests.support.clients import WsClient, client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with small limits, so the limits can be reached quickly."""
    data_dir = tmp_path_factory.mktemp("tight")
    live = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={
            "PORTSIDE_HELLO_TIMEOUT_S": "0.5",
            "PORTSIDE_HEARTBEAT_S": "0.5",
            "PORTSIDE_MESSAGES_PER_10S": "3",
            "PORTSIDE_CONNECTIONS_PER_IP": "4",
            "PORTSIDE_AGENT": "off",
            "PORTSIDE_MAX_MESSAGE_CHARS": "50",
        },
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
async def tight_store(tight_server: LiveServer) -> AsyncIterator[StoreFixture]:
    async with services_for(tight_server.database_url, tight_server.data_dir) as svc:
        yield await make_store(svc, origin=tight_server.origin)


async def send_and_error(client: WsClient, **frame: object) -> dict[str, object]:
    await client.send(ref="x", **frame)
    return await client.expect("error", where=lambda f: f.get("ref") == "x")


async def test_bad_messages_are_refused_and_nothing_is_stored(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        too_long = await send_and_error(
            shopper, type="message.send", client_id=client_id(), text="x" * 4001
        )
        assert too_long["code"] == "message_too_long"
        assert "4000" in str(too_long["message"])
        empty = await send_and_error(shopper, type="message.send", client_id=client_id(), text=" ")
        assert empty["code"] == "message_empty"
        for bad_id in ("", "has space", "x" * 65, 42, None):
            error = await send_and_error(shopper, type="message.send", client_id=bad_id, text="hi")
            assert error["code"] == "invalid_client_id"
        note = await send_and_error(shopper, type="note.send", client_id=client_id(), text="hi")
        assert note["code"] == "forbidden"
        # Nothing was stored: the shopper still has no conversation.
        await shopper.send(type="sync", conversation_id=1, after_seq=0, ref="s")
        assert (await shopper.expect("error"))["code"] == "not_found"
        await shopper.send(type="ping")
        await shopper.expect("pong")


async def test_malformed_frames_get_errors_then_a_close(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send_raw("not json")
        assert (await shopper.expect("error"))["code"] == "malformed_frame"
        await shopper.send_raw("[1, 2]")
        assert (await shopper.expect("error"))["code"] == "malformed_frame"
        await shopper.send(type="teleport")
        assert (await shopper.expect("error"))["code"] == "malformed_frame"
        await shopper.send(type="sync", conversation_id="seven")
        assert (await shopper.expect("error"))["code"] == "malformed_frame"
        for _ in range(16):
            await shopper.send_raw("{")
        assert await shopper.closed_with() == 4400


async def test_wrong_protocol_version_closes(server: LiveServer, store: StoreFixture) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin, send_hello=False) as shopper:
        await shopper.send_raw('{"v": 2, "type": "hello"}')
        assert await shopper.closed_with() == 4400
        assert shopper.backlog[0]["code"] == "unsupported_version"


async def test_first_frame_must_be_hello(server: LiveServer, store: StoreFixture) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin, send_hello=False) as shopper:
        await shopper.send(type="message.send", client_id=client_id(), text="hi")
        assert await shopper.closed_with() == 4401
        assert shopper.backlog[0]["code"] == "hello_required"


async def test_silent_client_is_closed_after_hello_timeout(
    tight_server: LiveServer, tight_store: StoreFixture
) -> None:
    async with widget(
        tight_server.ws_url, tight_store.widget_key, tight_store.origin, send_hello=False
    ) as shopper:
        assert await shopper.closed_with() == 4401


async def test_client_that_stops_answering_is_closed_by_heartbeat(
    tight_server: LiveServer, tight_store: StoreFixture
) -> None:
    async with widget(tight_server.ws_url, tight_store.widget_key, tight_store.origin) as shopper:
        await shopper.expect("welcome")
        assert await shopper.closed_with(timeout=5) == 4408
        assert any(f["type"] == "ping" for f in shopper.backlog)


async def test_unknown_store_and_foreign_origin_are_refused(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, "pk_nope", store.origin) as shopper:
        assert await shopper.closed_with() == 4404
        assert shopper.backlog[0]["code"] == "unknown_store"
    async with widget(server.ws_url, store.widget_key, "https://evil.example") as shopper:
        assert await shopper.closed_with() == 4403
        assert shopper.backlog[0]["code"] == "origin_not_allowed"


async def test_message_rate_limit(tight_server: LiveServer, tight_store: StoreFixture) -> None:
    async with widget(tight_server.ws_url, tight_store.widget_key, tight_store.origin) as shopper:
        await shopper.expect("welcome")
        for n in range(3):
            await shopper.send(type="message.send", client_id=f"m{n}", text=f"hi {n}")
            await shopper.expect("ack")
        limited = await send_and_error(shopper, type="message.send", client_id="m3", text="4th")
        assert limited["code"] == "rate_limited"
        assert float(limited["retry_after"]) > 0  # type: ignore[arg-type]
        too_long = await send_and_error(shopper, type="message.send", client_id="m4", text="y" * 51)
        assert too_long["code"] == "message_too_long"


async def test_too_many_connections_from_one_address(
    tight_server: LiveServer, tight_store: StoreFixture
) -> None:
    url = f"{tight_server.ws_url}/ws/widget?store={tight_store.widget_key}"
    sockets = [await connect(url, origin=tight_store.origin) for _ in range(4)]  # type: ignore[arg-type]
    for ws in sockets:
        await ws.send('{"v": 1, "type": "hello"}')
    for ws in sockets:  # each one counted before the fifth comes
        while json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] != "welcome":
            pass

    async def keep_alive() -> None:
        # This server's heartbeat is 0.5 s: silent sockets would be closed (4408) and
        # free their places before the fifth arrives on a slow machine.
        while True:
            for ws in sockets:
                await ws.send('{"v": 1, "type": "ping"}')
            await asyncio.sleep(0.2)

    pinger = asyncio.create_task(keep_alive())
    try:
        async with widget(tight_server.ws_url, tight_store.widget_key, tight_store.origin) as fifth:
            assert await fifth.closed_with() == 4429
    finally:
        pinger.cancel()
        for ws in sockets:
            await ws.close()


async def test_forged_or_foreign_token_gets_a_new_visitor(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    other = await make_store(svc, origin=server.origin, agents=0)
    async with widget(server.ws_url, other.widget_key, other.origin) as stranger:
        foreign_token = (await stranger.expect("welcome"))["visitor"]["token"]
    for token in (foreign_token, foreign_token[:-3] + "abc", "garbage"):
        async with widget(
            server.ws_url, store.widget_key, store.origin, hello={"token": token}
        ) as shopper:
            error = await shopper.expect("error")
            assert error["code"] == "token_invalid"
            welcome = await shopper.expect("welcome")
            assert welcome["visitor"]["token"] != token
            assert welcome["conversation"] is None


async def test_repeated_failed_logins_are_rate_limited(
    tight_server: LiveServer, tight_store: StoreFixture
) -> None:
    email = tight_store.agents[1]["email"]
    async with httpx.AsyncClient(base_url=tight_server.base_url) as http:
        codes = []
        for _ in range(11):
            response = await http.post(
                "/api/v1/auth/login", json={"email": email, "password": "wrong password"}
            )
            codes.append(response.status_code)
        assert codes[:10] == [401] * 10
        assert codes[10] == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["code"] == "rate_limited"


@pytest.fixture(scope="module")
def few_visitors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that lets an address start three new shoppers a minute."""
    data_dir = tmp_path_factory.mktemp("few-visitors")
    live = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={"PORTSIDE_NEW_VISITORS_PER_MINUTE_PER_IP": "3", "PORTSIDE_AGENT": "off"},
    )
    live.start()
    yield live
    live.stop()


async def test_an_address_that_keeps_making_new_shoppers_is_refused_but_returning_ones_are_not(
    few_visitors_server: LiveServer,
) -> None:
    live = few_visitors_server
    async with services_for(live.database_url, live.data_dir) as svc:
        shop = await make_store(svc, origin=live.origin)
    tokens = []
    for _ in range(3):
        async with widget(live.ws_url, shop.widget_key, shop.origin) as shopper:
            tokens.append((await shopper.expect("welcome"))["visitor"]["token"])
    async with widget(live.ws_url, shop.widget_key, shop.origin) as fourth:
        assert await fourth.closed_with() == 4429
    # A shopper who has a token is no new shopper: they come back at once.
    hello = {"token": tokens[0]}
    async with widget(live.ws_url, shop.widget_key, shop.origin, hello=hello) as returning:
        assert (await returning.expect("welcome"))["visitor"]["token"]


async def test_an_origin_taken_away_is_refused_at_once_on_the_node_that_changed_it(
    server: LiveServer, store: StoreFixture
) -> None:
    # The node keeps stores found by widget key a few seconds (services/store_keys.py);
    # a change made through it must not wait for that.
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
    admin = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    changed = await admin.patch(
        "/api/v1/store", json={"allowed_origins": ["https://elsewhere.example"]}
    )
    assert changed.status_code == 200, changed.text
    await admin.aclose()
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        assert await shopper.closed_with() == 4403
        assert shopper.backlog[0]["code"] == "origin_not_allowed"
