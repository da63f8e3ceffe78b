"""Behind a reverse proxy: X-Forwarded-For and X-Forwarded-Proto are believed from the
proxies in PORTSIDE_TRUSTED_PROXIES only, so that limits count shoppers, not the proxy."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from portside.realtime.protocol import Close
from tests.support.clients import WsClient
from tests.support.factories import PASSWORD, StoreFixture, make_store, services_for
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("proxied")
    live = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={
            "PORTSIDE_AGENT": "off",
            # The tests' own address is the proxy's.
            "PORTSIDE_TRUSTED_PROXIES": "127.0.0.0/8, ::1",
            "PORTSIDE_CONNECTIONS_PER_IP": "1",
        },
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
async def shop(proxied: LiveServer) -> StoreFixture:
    async with services_for(proxied.database_url, proxied.data_dir) as svc:
        return await make_store(svc, origin=proxied.origin, agents=1)


@contextlib.asynccontextmanager
async def shopper_from(
    server: LiveServer, shop: StoreFixture, address: str
) -> AsyncIterator[WsClient]:
    async with connect(
        f"{server.ws_url}/ws/widget?store={shop.widget_key}",
        origin=server.origin,  # type: ignore[arg-type]
        additional_headers={"X-Forwarded-For": f"{address}, 127.0.0.1"},
    ) as ws:
        client = WsClient(ws)
        # A refused socket may be closed before its hello goes out: the test reads why.
        with contextlib.suppress(ConnectionClosed):
            await client.send(type="hello")
        yield client


async def test_connection_limits_count_the_forwarded_address(
    proxied: LiveServer, shop: StoreFixture
) -> None:
    # One connection per address is allowed: two shoppers through the same proxy are two
    # addresses, and a second socket of the first is refused.
    async with (
        shopper_from(proxied, shop, "203.0.113.5") as first,
        shopper_from(proxied, shop, "198.51.100.7") as second,
    ):
        await first.expect("welcome")
        await second.expect("welcome")
        async with shopper_from(proxied, shop, "203.0.113.5") as again:
            error = await again.expect("error")
            assert error["code"] == "rate_limited"
            assert await again.closed_with() == Close.TOO_MANY


async def test_metrics_see_the_forwarded_client_not_the_local_proxy(
    proxied: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=proxied.base_url) as http:
        assert (await http.get("/metrics")).status_code == 200
        remote = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        assert remote.status_code == 403
        assert remote.json()["error"]["code"] == "metrics_loopback_only"


async def test_a_session_cookie_is_secure_when_the_proxy_took_https(
    proxied: LiveServer, shop: StoreFixture
) -> None:
    login = {"email": shop.agents[0]["email"], "password": PASSWORD}
    async with httpx.AsyncClient(base_url=proxied.base_url) as http:
        plain = await http.post("/api/v1/auth/login", json=login)
        assert plain.status_code == 200
        assert "secure" not in plain.headers["set-cookie"].lower()
        tls = await http.post(
            "/api/v1/auth/login", json=login, headers={"X-Forwarded-Proto": "https"}
        )
        assert tls.status_code == 200
        assert "secure" in tls.headers["set-cookie"].lower()


async def test_forwarded_headers_from_anyone_else_are_ignored(server: LiveServer) -> None:
    """The shared server trusts no proxy: a header cannot make a local client remote."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        assert response.status_code == 200
