"""Shoppers' turns a dead node left unanswered, found in the log on the SQLite file and on
PostgreSQL (in virtual time), and answered once by a real node with the AI agent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portside.clock import ManualClock
from portside.domain.conversations import Event
from portside.services.bot import do_send_bot_message
from portside.services.context import Services
from portside.services.conversations import (
    do_change_status,
    do_request_person,
    do_send_visitor_message,
)
from portside.services.identity import AgentIdentity
from portside.services.turn_recovery import TurnRecovery
from portside.services.visitors import do_identify_visitor
from portside.storage import conversation_store
from tests.support.clients import client_id
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer


async def shopper(svc: Services, store_id: int) -> int:
    visitor = await do_identify_visitor(
        svc, store_id=store_id, token=None, context={}, address="127.0.0.1", user_agent=None
    )
    return visitor.visitor_id


async def say(svc: Services, store_id: int, visitor_id: int, text: str) -> Event:
    sent = await do_send_visitor_message(
        svc, store_id=store_id, visitor_id=visitor_id, client_id=client_id(), text=text
    )
    return sent.event


def of_store(turns: list[dict[str, Any]], store_id: int) -> list[str]:
    """The texts of the turns handed over, of this test's store (the database may hold
    other tests' conversations)."""
    return [turn["text"] for turn in turns if turn["store_id"] == store_id]


def recovered(svc: Services) -> float:
    """The node's count of turns handed to its agent, as /metrics shows it."""
    for family in text_string_to_metric_families(svc.metrics.render().decode()):
        for sample in family.samples:
            if sample.name == "portside_turns_recovered_total":
                return sample.value
    raise AssertionError("no portside_turns_recovered_total")


async def test_only_turns_the_bot_still_owes_are_handed_over_once_a_term(svc: Services) -> None:
    clock = ManualClock(datetime.now(UTC))
    node = Services(settings=svc.settings, db=svc.db, bus=svc.bus, clock=clock)
    store = await make_store(node, origin="http://shop.test")
    admin = store.agents[0]
    person = AgentIdentity(admin["id"], store.id, admin["name"], admin["email"], "admin", "")
    handed: list[dict[str, Any]] = []
    recovery = TurnRecovery(node, handed.append, shared=False)
    assert recovery.enabled
    await recovery.job.lease.hold()

    owed = await say(node, store.id, await shopper(node, store.id), "where is my parcel?")
    answered = await say(node, store.id, await shopper(node, store.id), "do you ship to Peru?")
    await do_send_bot_message(
        node,
        store_id=store.id,
        conversation_id=answered.conversation_id,
        reply_to=answered.id,
        text="We do.",
        details={},
    )
    taken = await say(node, store.id, await shopper(node, store.id), "a person please")
    await do_change_status(node, person, conversation_id=taken.conversation_id, action="take")
    handed_off = await shopper(node, store.id)
    await say(node, store.id, handed_off, "is it in stock?")
    await do_request_person(node, store_id=store.id, visitor_id=handed_off)
    # Waiting in the queue within business hours (the store has no hours: always): a
    # person answers, not the bot.
    await say(node, store.id, handed_off, "hello? anyone?")
    clock.advance(5)
    late = await say(node, store.id, await shopper(node, store.id), "and returns?")

    clock.advance(11)  # the first five are 16 s old, `late` 11 s: its node may still answer
    assert await recovery.recover() >= 1
    assert of_store(handed, store.id) == ["where is my parcel?"]
    assert recovered(node) == len(handed)
    assert handed[-1] == {
        "store_id": store.id,
        "conversation_id": owed.conversation_id,
        "visitor_id": owed.visitor_id,
        "event_id": owed.id,
        "seq": owed.seq,
        "text": "where is my parcel?",
        "attachments": [],
    }

    clock.advance(5)
    handed.clear()
    await recovery.recover()
    assert of_store(handed, store.id) == ["and returns?"]
    handed.clear()
    await recovery.recover()
    assert of_store(handed, store.id) == []  # not asked again this term

    # A new term: another node may have held the lease meanwhile; still owed, so again.
    await recovery.job.lease.release()
    await recovery.job.lease.hold()
    await recovery.recover()
    assert of_store(handed, store.id) == ["where is my parcel?", "and returns?"]
    assert late.id > owed.id

    # Ten minutes on, the shopper has moved on: not answered late.
    clock.advance(600)
    handed.clear()
    await recovery.job.lease.release()
    await recovery.job.lease.hold()
    await recovery.recover()
    assert of_store(handed, store.id) == []


@pytest.fixture
def answering_node(server: LiveServer) -> Iterator[LiveServer]:
    """A node with the AI agent that answers turns unanswered after 1 s, on the
    database of `server` (whose own agent is off)."""
    live = LiveServer(
        data_dir=server.data_dir,  # the same secret key
        database_url=server.database_url,
        env={"PORTSIDE_TURN_RECOVERY_S": "1"},
    )
    live.start()
    yield live
    live.stop()


async def bot_replies(svc: Services, conversation_id: int, visitor_id: int) -> list[Event]:
    events = await svc.db.read(
        lambda conn: conversation_store.list_events(
            conn, conversation_id, visitor_id=visitor_id, after_seq=0, limit=100
        )
    )
    return [e for e in events if e.actor.type.value == "bot" and e.type.value == "message.created"]


async def eventual_replies(svc: Services, conversation_id: int, visitor_id: int) -> list[Event]:
    """The bot's replies, once there are any (another process writes them); none in a
    minute: none."""
    for _ in range(300):
        replies = await bot_replies(svc, conversation_id, visitor_id)
        if replies:
            return replies
        await asyncio.sleep(0.2)
    return []


async def test_a_turn_its_node_never_answered_gets_one_reply_from_another_node(
    server: LiveServer, store: StoreFixture, answering_node: LiveServer
) -> None:
    async with services_for(server.database_url, server.data_dir) as svc:
        # Stored and announced on a node that died before answering (here: on no
        # node's bus at all).
        visitor_id = await shopper(svc, store.id)
        turn = await say(svc, store.id, visitor_id, "Hi! Do you ship to Canada?")
        taken_visitor = await shopper(svc, store.id)
        taken = await say(svc, store.id, taken_visitor, "I need a person")
        admin = store.agents[0]
        person = AgentIdentity(admin["id"], store.id, admin["name"], admin["email"], "admin", "")
        await do_change_status(svc, person, conversation_id=taken.conversation_id, action="take")

        replies = await eventual_replies(svc, turn.conversation_id, visitor_id)
        assert [r.data["client_id"] for r in replies] == [f"bot:{turn.id}"]
        # A few more rounds of the recovery: still one reply, and none where a person
        # took the conversation.
        await asyncio.sleep(3)
        assert len(await bot_replies(svc, turn.conversation_id, visitor_id)) == 1
        assert await bot_replies(svc, taken.conversation_id, taken_visitor) == []
