"""Two Portside processes sharing PostgreSQL and Redis act as one service."""

from __future__ import annotations

import pytest

from portside.services.identity import AgentIdentity
from portside.services.stores import do_update_store
from tests.support.clients import client_id, console, login, widget
from tests.support.cluster import ClusterKit
from tests.support.factories import make_store, services_for
from tests.support.server import POSTGRES_URL, REDIS_URL, LiveServer

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="needs PORTSIDE_TEST_POSTGRES_URL and PORTSIDE_TEST_REDIS_URL",
)


@pytest.fixture
def nodes(cluster: ClusterKit) -> list[LiveServer]:
    return cluster.start(2, PORTSIDE_AGENT="off").nodes


async def test_shopper_on_one_node_and_agent_on_another_talk_live(
    nodes: list[LiveServer],
) -> None:
    a, b = nodes
    async with services_for(a.database_url, a.data_dir) as svc:
        store = await make_store(svc, origin=a.origin, agents=1)
        admin = AgentIdentity(store.agents[0]["id"], store.id, "Admin", "a@x", "admin", "-")
        await do_update_store(svc, admin, {"allowed_origins": [a.origin, b.origin]})
    http = await login(b.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with (
        console(b.ws_url, http) as desk,
        widget(a.ws_url, store.widget_key, a.origin) as shopper,
    ):
        await desk.expect("welcome")
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="hello from A")
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
        inbox = await desk.expect("inbox")
        assert [(c["id"], c["preview"]) for c in inbox["conversations"]] == [
            (conversation_id, "hello from A")
        ]
        await desk.send(
            type="message.send",
            conversation_id=conversation_id,
            client_id=client_id(),
            text="hello from B",
        )
        await desk.expect("ack")
        frames = await shopper.events(4)
        assert [e["type"] for e in frames][-1] == "message.created"
        assert frames[-1]["data"]["text"] == "hello from B"
        # Now the agent's: the shopper's next message reaches the console as an event.
        await shopper.send(type="message.send", client_id=client_id(), text="thanks, B")
        await desk.expect(
            "event",
            where=lambda f: (
                f["event"]["actor"]["type"] == "visitor"
                and f["event"]["data"].get("text") == "thanks, B"
            ),
        )
    await http.aclose()
