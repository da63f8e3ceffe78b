"""What a scaled-out Portside does when a part of it fails, with real processes: a node
killed mid-traffic (SIGKILL), Redis stopped and started again, PostgreSQL cut off and
back. Clients reconnect by themselves through a balancer and resume from their last
seq; at the end each of them has every event of its conversations exactly once.

The tests share two nodes (starting them is most of the time), on a private Redis and
behind a PostgreSQL proxy this module can break; each test starts with all of it whole.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from portside.realtime.protocol import Close
from portside.services.context import Services
from portside.storage.tables import events
from tests.support.clients import WsClient, widget
from tests.support.cluster import Cluster, RedisServer, cluster_kit, has_redis_server
from tests.support.cluster_chat import SHOP, logged_in, started, store_on, text_is
from tests.support.proxy import TcpProxy
from tests.support.resuming import (
    ConsoleClient,
    ResumingClient,
    WidgetClient,
    console_for,
    conversation_log,
    tally,
)


@dataclass
class Outages:
    nodes: Cluster
    database: TcpProxy  # between the nodes and PostgreSQL
    redis: RedisServer | None  # the nodes' own; None: no redis-server here (shared Redis)


@pytest.fixture(scope="module")
def cluster_under_test(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outages]:
    with cluster_kit(tmp_path_factory) as kit:
        redis = kit.redis_server() if has_redis_server() else None
        database, through_proxy = kit.database_proxy()
        nodes = kit.start(
            2,
            database_url=through_proxy,
            redis_url=redis.url if redis is not None else None,
            PORTSIDE_AGENT="off",
        )
        yield Outages(nodes, database, redis)


@pytest.fixture
def outages(cluster_under_test: Outages) -> Outages:
    """The module's cluster whole again: PostgreSQL reachable, Redis up, every node
    running (whatever the test before broke)."""
    cluster_under_test.database.restore()
    if cluster_under_test.redis is not None:
        cluster_under_test.redis.start()
    cluster_under_test.nodes.heal()
    return cluster_under_test


SHOPPERS = 8
ROUNDS = 8


async def test_a_killed_nodes_clients_resume_on_another_with_nothing_lost_or_doubled(
    outages: Outages,
) -> None:
    nodes = outages.nodes
    a, b = nodes.nodes
    async with store_on(nodes) as (svc, store, stack):
        # Everyone through the balancer, which takes turns: the two consoles opened one
        # after the other are on different nodes, and so are every other shopper.
        https = [await logged_in(stack, nodes.base_url, agent) for agent in store.agents]
        desks = [await started(stack, console_for(http)) for http in https]
        assert {_node(nodes, desk) for desk in desks} == {a.port, b.port}
        shoppers = [
            await started(stack, WidgetClient(nodes.ws_url, store.widget_key, SHOP))
            for _ in range(SHOPPERS)
        ]
        pairs = [(shopper, desks[i % len(desks)]) for i, shopper in enumerate(shoppers)]
        for i, (shopper, desk) in enumerate(pairs):
            conversation = (await shopper.say(f"hello, I am shopper {i}"))["conversation_id"]
            await desk.reply(conversation, f"hello shopper {i}")  # the agent takes it
        clients: list[ResumingClient] = [*shoppers, *desks]
        on_a = [c for c in clients if _node(nodes, c) == a.port]
        assert len(on_a) == len(clients) // 2

        sent = [0]  # messages acknowledged so far, both ways
        half = len(pairs) * ROUNDS  # of 2 * len(pairs) * ROUNDS

        async def talk(shopper: WidgetClient, desk: ConsoleClient) -> None:
            conversation = shopper.conversation_id
            assert conversation is not None
            for r in range(ROUNDS):
                await shopper.say(f"question {r}")
                await desk.reply(conversation, f"answer {r}")
                sent[0] += 2

        async def kill_halfway() -> None:
            await _until(lambda: sent[0] >= half, 60)
            nodes.kill(a)

        await asyncio.gather(kill_halfway(), *(talk(shopper, desk) for shopper, desk in pairs))

        # Every client that was on the killed node came back, on the other one.
        for client in on_a:
            assert client.reconnects >= 1
            assert _node(nodes, client) == b.port
        await _nothing_lost_or_doubled(svc, pairs)

        # Restarted, the node takes new clients again, who talk across the two.
        await asyncio.to_thread(nodes.restart, a)
        http = await logged_in(stack, nodes.base_url, store.agents[0])
        desk = await started(stack, console_for(http))
        shopper = await started(stack, WidgetClient(nodes.ws_url, store.widget_key, SHOP))
        assert {_node(nodes, desk), _node(nodes, shopper)} == {a.port, b.port}
        conversation = (await shopper.say("is anyone there after the restart?"))["conversation_id"]
        await desk.reply(conversation, "yes, on the other node")
        await shopper.event(text_is("yes, on the other node"))
        await _nothing_lost_or_doubled(svc, [(shopper, desk)])


async def test_chat_goes_on_while_redis_is_down_and_catches_up_when_it_returns(
    outages: Outages,
) -> None:
    redis = outages.redis
    if redis is None:
        pytest.skip("needs redis-server, to stop and start a Redis of the test's own")
    nodes = outages.nodes
    a, b = nodes.nodes
    pids = [node.process.pid for node in nodes.nodes if node.process is not None]
    async with store_on(nodes) as (svc, store, stack):
        first, second = store.agents
        # One shopper and agent on the same node; another pair split across the two.
        near_desk = await started(stack, console_for(await logged_in(stack, a.base_url, first)))
        far_desk = await started(stack, console_for(await logged_in(stack, b.base_url, second)))
        near = await started(stack, WidgetClient(a.ws_url, store.widget_key, SHOP))
        far = await started(stack, WidgetClient(a.ws_url, store.widget_key, SHOP))
        pairs = [(near, near_desk), (far, far_desk)]
        for shopper, desk in pairs:
            conversation = (await shopper.say("hello"))["conversation_id"]
            await desk.reply(conversation, "hello, how can I help?")
            await shopper.event(text_is("hello, how can I help?"))

        redis.stop()
        # Same node: live as before, from the node itself.
        await near.say("is this still live?")
        await near_desk.event(text_is("is this still live?"), 10)
        await near_desk.reply(_conversation(near), "yes, without Redis")
        await near.event(text_is("yes, without Redis"), 10)
        # Across nodes: stored (acknowledged), delivered once Redis is back.
        await far.say("and across nodes?")
        await far_desk.reply(_conversation(far), "across nodes too")

        redis.start()
        await far_desk.event(text_is("and across nodes?"), 30)
        await far.event(text_is("across nodes too"), 30)
        await _nothing_lost_or_doubled(svc, pairs)
        assert all(client.reconnects == 0 for pair in pairs for client in pair)
    assert [node.process.pid for node in nodes.nodes if node.process is not None] == pids


async def test_a_database_outage_is_a_retryable_error_and_nothing_half_written(
    outages: Outages,
) -> None:
    proxy = outages.database
    nodes = outages.nodes
    node = nodes.nodes[0]
    # The test reads and sets up straight from PostgreSQL, the nodes through the proxy.
    async with store_on(nodes) as (svc, store, stack):
        http = await logged_in(stack, node.base_url, store.agents[0])
        async with widget(node.ws_url, store.widget_key, SHOP) as shopper:
            await shopper.expect("welcome")
            await _say(shopper, "before the outage", "before")
            ack = await shopper.expect("ack")
            conversation = ack["conversation_id"]

            proxy.cut()
            await _say(shopper, "during the outage", "during")
            error = await shopper.expect("error", timeout=20)
            assert error["code"] == "unavailable" and error["ref"] == "during", error
            assert error["retry_after"] > 0
            listed = await http.get("/api/v1/conversations")
            assert listed.status_code == 503, listed.text
            assert listed.json()["error"]["code"] == "unavailable"
            assert int(listed.headers["Retry-After"]) > 0
            # A shopper arriving meanwhile is told the same, and to come back later.
            async with widget(node.ws_url, store.widget_key, SHOP) as newcomer:
                refused = await newcomer.expect("error", timeout=20)
                assert refused["code"] == "unavailable" and refused["retry_after"] > 0
                assert await newcomer.closed_with() == Close.OVERLOADED  # 1013: try again later
            # Nothing of the refused message was stored, nothing else was half-written.
            assert await _client_ids(svc, conversation) == ["before"]

            proxy.restore()
            # The same client retries the same message, on the same node, until it goes in.
            ack = await _retry(shopper, "during the outage", "during")
            assert (ack["conversation_id"], ack["duplicate"]) == (conversation, False)
        assert await _client_ids(svc, conversation) == ["before", "during"]
        log = await conversation_log(svc, conversation)
        assert [seq for seq, _kind in log] == list(range(1, len(log) + 1))
        listed = await http.get("/api/v1/conversations")
        assert listed.status_code == 200, listed.text


async def _say(shopper: WsClient, text: str, client_id: str) -> None:
    await shopper.send(type="message.send", ref=client_id, client_id=client_id, text=text)


async def _retry(shopper: WsClient, text: str, client_id: str) -> dict[str, Any]:
    """Send until acknowledged, waiting as each refusal asks (within 30 s)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        await _say(shopper, text, client_id)
        frame = await _answer(shopper, client_id)
        if frame["type"] == "ack":
            return frame
        assert frame["code"] == "unavailable", frame
        assert asyncio.get_running_loop().time() < deadline, "still refused after 30 s"
        await asyncio.sleep(frame.get("retry_after", 1))


async def _answer(shopper: WsClient, client_id: str) -> dict[str, Any]:
    """The ack or error that answers the send of `client_id`."""
    while True:
        frame = await shopper.next(timeout=20)
        if frame["type"] in ("ack", "error") and frame.get("ref") == client_id:
            return frame


async def _client_ids(svc: Services, conversation_id: int) -> list[str]:
    query = (
        select(events.c.client_id)
        .where(events.c.conversation_id == conversation_id, events.c.type == "message.created")
        .order_by(events.c.seq)
    )
    rows = await svc.db.read(lambda conn: conn.execute(query).all())
    return [str(row.client_id) for row in rows]


async def _nothing_lost_or_doubled(
    svc: Services, pairs: list[tuple[WidgetClient, ConsoleClient]]
) -> None:
    """Once every client has caught up with the log (or 20 s passed): lost 0, doubled 0."""
    for shopper, desk in pairs:
        conversation = _conversation(shopper)
        log = await conversation_log(svc, conversation)
        await _check(shopper, conversation, log, shopper=True)
        await _check(desk, conversation, log, shopper=False)


async def _check(
    client: ResumingClient, conversation: int, log: list[tuple[int, str]], *, shopper: bool
) -> None:
    with contextlib.suppress(TimeoutError):
        await client.wait_for(
            lambda: not tally(client, conversation, log, shopper=shopper).lost, 20
        )
    result = tally(client, conversation, log, shopper=shopper)
    who = "shopper" if shopper else "agent"
    assert (result.lost, result.duplicated) == ([], []), (
        f"{who} of conversation {conversation}: lost {result.lost}, duplicated {result.duplicated}"
    )


def _conversation(shopper: WidgetClient) -> int:
    assert shopper.conversation_id is not None
    return shopper.conversation_id


def _node(nodes: Cluster, client: ResumingClient) -> int | None:
    """The port of the node the client's socket was balanced to."""
    assert client.local_port is not None
    node = nodes.node_of(client.local_port)
    return None if node is None else node.port


async def _until(check: Callable[[], bool], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the traffic did not get halfway")
        await asyncio.sleep(0.02)
