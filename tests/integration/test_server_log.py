"""What `portside serve` writes to its log: not a line per WebSocket (a node holds
thousands, and they all come back at once after a restart), but what an operator acts on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.clients import widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("logged")
    server = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={"PORTSIDE_AGENT": "off"},
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def shop(live: LiveServer) -> StoreFixture:
    async with services_for(live.database_url, live.data_dir) as svc:
        return await make_store(svc, origin=live.origin, agents=1)


async def test_widgets_coming_and_going_leave_no_line_each(
    live: LiveServer, shop: StoreFixture
) -> None:
    for _ in range(3):
        async with widget(live.ws_url, shop.widget_key, live.origin) as client:
            assert (await client.next())["type"] == "welcome"
    # A request the server answers: its access line shows the log is being written.
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
    log = live.log_path.read_text() if live.log_path else ""
    assert '"GET /healthz HTTP/1.1" 200' in log
    for line in ("connection open", "connection closed", '"WebSocket /ws/widget'):
        assert line not in log


async def test_a_socket_refused_before_its_handshake_is_still_logged(live: LiveServer) -> None:
    # No such endpoint: refused with 403 before any WebSocket is accepted.
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{live.ws_url}/ws/nowhere"):
            pass
    assert refused.value.response.status_code == 403
    log = live.log_path.read_text() if live.log_path else ""
    assert '"WebSocket /ws/nowhere" 403' in log
