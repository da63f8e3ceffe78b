"""Three Portside processes on one PostgreSQL and one Redis act as one service: people
on different nodes talk live, the AI agent answers each shopper turn exactly once
whichever node hears it, and a coupon pool hands each code out once however many nodes
claim from it at the same moment.

The three nodes run the embedded AI agent and are shared by the tests of this module
(starting them is most of its time); tests that break nodes are in
test_cluster_outages.py."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, select

from portside.domain.conversations import INTERNAL_EVENTS
from portside.services.context import Services
from portside.storage.tables import coupon_codes, events, trigger_fires
from tests.support.cluster import Cluster, cluster_kit
from tests.support.cluster_chat import SHOP, logged_in, started, store_on, text_is
from tests.support.coupons import insert_pool
from tests.support.resuming import Frame, WidgetClient, console_for, conversation_log, tally


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster_kit(tmp_path_factory) as kit:
        # PORTSIDE_AGENT unset: the embedded AI agent answers on every node.
        yield kit.start(3)


async def test_a_shopper_and_two_agents_on_three_nodes_talk_live(nodes: Cluster) -> None:
    a, b, c = nodes.nodes
    async with store_on(nodes) as (svc, store, stack):
        first, second = store.agents
        http_b = await logged_in(stack, b.base_url, first)
        http_c = await logged_in(stack, c.base_url, second)
        shopper = await started(stack, WidgetClient(a.ws_url, store.widget_key, SHOP))
        desk_b = await started(stack, console_for(http_b))
        desk_c = await started(stack, console_for(http_c))

        conversation = (await shopper.say("hello from node A"))["conversation_id"]
        taken = await http_b.post(f"/api/v1/conversations/{conversation}/take")
        assert taken.is_success, taken.text
        # Given to the first agent: their console on B gets the conversation whole.
        await desk_b.event(text_is("hello from node A"))
        await desk_b.reply(conversation, "hello from node B")
        await shopper.event(text_is("hello from node B"))

        moved = await http_b.post(
            f"/api/v1/conversations/{conversation}/assign", json={"agent_id": second["id"]}
        )
        assert moved.is_success, moved.text
        # Transferred: the second agent's console on C gets it whole, from seq 1.
        await desk_c.event(text_is("hello from node B"))
        await shopper.say("thanks, both of you")
        await desk_c.event(text_is("thanks, both of you"))
        await desk_c.reply(conversation, "you are welcome, from node C")
        await shopper.event(text_is("you are welcome, from node C"))

        log = await conversation_log(svc, conversation)
        # Every event once and in order, for the shopper and for the agent who has it.
        assert shopper.received[conversation] == [
            seq for seq, kind in log if kind not in INTERNAL_EVENTS
        ]
        assert desk_c.received[conversation] == [seq for seq, _kind in log]
        # The first agent heard it until the change that moved it away, that one included.
        moved_at = max(seq for seq, kind in log if kind == "conversation.status_changed")
        assert desk_b.received[conversation] == list(range(1, moved_at + 1))
        assert (shopper.reconnects, desk_b.reconnects, desk_c.reconnects) == (0, 0, 0)


SHOPPERS = 30
TURNS = ("hi there!", "how much is shipping to Canada?", "thank you!")


def is_bot_message(event: Frame) -> bool:
    return bool(event["type"] == "message.created" and event["actor"]["type"] == "bot")


async def test_each_shopper_turn_gets_exactly_one_ai_reply_on_three_nodes(
    nodes: Cluster,
) -> None:
    async with store_on(nodes) as (svc, store, stack):
        # Through the balancer: the shoppers are spread over the three nodes.
        shoppers = [WidgetClient(nodes.ws_url, store.widget_key, SHOP) for _ in range(SHOPPERS)]
        await asyncio.gather(*(started(stack, shopper) for shopper in shoppers))
        spread = Counter(_node_port(nodes, shopper) for shopper in shoppers)
        assert len(spread) == 3, spread

        async def converse(shopper: WidgetClient) -> None:
            for n, text in enumerate(TURNS, 1):
                await shopper.say(text)
                await _answered(shopper, n)

        # All of them at once, each waiting for the answer before the next turn.
        await asyncio.gather(*(converse(shopper) for shopper in shoppers))
        # Any second answer would be on its way by now; give it a moment to arrive.
        await asyncio.sleep(2)

        for shopper in shoppers:
            conversation = shopper.conversation_id
            assert conversation is not None
            turns, replies = await _turns_and_replies(svc, conversation)
            assert len(turns) == len(TURNS)
            # In the database: each turn answered once, and nothing else said by the bot.
            assert sorted(replies) == sorted(f"bot:{turn}" for turn in turns), replies
            # On the socket: the same replies, each once.
            got = [e["data"]["client_id"] for e in shopper.find(is_bot_message)]
            assert sorted(got) == sorted(replies)
            result = tally(
                shopper, conversation, await conversation_log(svc, conversation), shopper=True
            )
            assert (result.lost, result.duplicated) == ([], [])


async def _answered(shopper: WidgetClient, turns: int) -> None:
    await shopper.wait_for(lambda: len(shopper.find(is_bot_message)) >= turns, 60)


async def _turns_and_replies(svc: Services, conversation_id: int) -> tuple[list[int], list[str]]:
    """The shopper's messages (event ids) and the bot's messages (client ids)."""
    query = select(events.c.id, events.c.actor_type, events.c.client_id).where(
        events.c.conversation_id == conversation_id, events.c.type == "message.created"
    )
    rows = await svc.db.read(lambda conn: conn.execute(query).all())
    turns = [int(row.id) for row in rows if row.actor_type == "visitor"]
    replies = [str(row.client_id) for row in rows if row.actor_type == "bot"]
    return turns, replies


def _node_port(nodes: Cluster, client: WidgetClient) -> int:
    assert client.local_port is not None
    node = nodes.node_of(client.local_port)
    assert node is not None
    return node.port


VISITORS = 36
CODES = 12


async def test_a_coupon_pool_hands_each_code_out_once_across_nodes(nodes: Cluster) -> None:
    async with store_on(nodes) as (svc, store, stack):
        now = svc.clock.now()
        codes = [f"NODES-{n:03d}" for n in range(CODES)]
        pool_id = await svc.db.write(
            lambda conn: insert_pool(conn, store.id, now, codes=codes, per_visitor_limit=1)
        )
        admin = await logged_in(stack, nodes.base_url, store.agents[0])
        created = await admin.post(
            "/api/v1/triggers",
            json={
                "name": "Leaving with a coupon",
                "conditions": {"match": "all", "conditions": [{"type": "exit_intent"}]},
                "actions": {
                    "message": {"texts": {"en": "Before you go: a coupon"}},
                    "coupon": {"pool_id": pool_id},
                },
            },
        )
        assert created.status_code == 201, created.text
        trigger_id = created.json()["id"]
        visitors = [WidgetClient(nodes.ws_url, store.widget_key, SHOP) for _ in range(VISITORS)]
        await asyncio.gather(*(started(stack, visitor) for visitor in visitors))
        assert len(Counter(_node_port(nodes, v) for v in visitors)) == 3

        # Every visitor leaves at the same moment, on whichever node they are.
        await asyncio.gather(*(_leave(visitor) for visitor in visitors))
        offers = [await visitor.event(_is_proactive, 30) for visitor in visitors]
        await asyncio.sleep(1)  # a second offer would be on its way by now

        given = [o["data"]["proactive"]["coupon"] for o in offers]
        handed = [coupon["code"] for coupon in given if coupon is not None]
        # As many codes as the pool had, none twice, one message per visitor.
        assert sorted(handed) == codes
        assert all(len(v.find(_is_proactive)) == 1 for v in visitors)

        def issued(conn: Connection) -> tuple[list[int], list[int]]:
            code_rows = conn.execute(
                select(coupon_codes.c.visitor_id).where(
                    coupon_codes.c.pool_id == pool_id, coupon_codes.c.issued_at.is_not(None)
                )
            ).all()
            fire_rows = conn.execute(
                select(trigger_fires.c.visitor_id).where(trigger_fires.c.trigger_id == trigger_id)
            ).all()
            return [r.visitor_id for r in code_rows], [r.visitor_id for r in fire_rows]

        holders, fired = await svc.db.read(issued)
        assert len(holders) == CODES and len(set(holders)) == CODES
        # The rule fired once per visitor, whichever nodes heard them.
        assert sorted(fired) == sorted(v.visitor_id or 0 for v in visitors)


async def _leave(visitor: WidgetClient) -> None:
    event = {"client_id": f"e-{uuid.uuid4().hex}", "type": "exit_intent", "data": {}}
    await visitor.send_frame("track", session_id="s-1", events=[event])


def _is_proactive(event: Frame) -> bool:
    return event["type"] == "message.created" and "proactive" in event["data"]
