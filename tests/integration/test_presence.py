"""Presence and the queue in virtual time over a real database: presence lapses without
renewal, an idle agent goes away, a gone agent's conversations move on after the grace
period, and a store's priority rules reorder the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portside.clock import ManualClock
from portside.domain.conversations import Event
from portside.services import agents as agent_service
from portside.services import presence
from portside.services.bot import do_write_handoff_context
from portside.services.context import Services
from portside.services.conversations import do_request_person
from portside.services.identity import AgentIdentity
from portside.services.routing import list_queue_places
from portside.services.settings import do_put_settings
from portside.services.stores import do_create_agent, do_create_store
from portside.services.visitors import do_identify_visitor
from portside.storage import conversation_store, store_store
from portside.storage.migrate import upgrade_async
from tests.support.factories import PASSWORD, services_for


@pytest.fixture
async def timed(tmp_path: Path) -> AsyncIterator[Services]:
    url = f"sqlite:///{tmp_path / 'presence.db'}"
    await upgrade_async(url)
    async with services_for(url, tmp_path) as svc:
        yield Services(settings=svc.settings, db=svc.db, bus=svc.bus, clock=ManualClock())


async def people(svc: Services, count: int) -> list[AgentIdentity]:
    store = await do_create_store(
        svc,
        name="Presence",
        allowed_origins=["http://shop.test"],
        default_language="en",
        timezone="UTC",
    )
    out = []
    for n in range(count):
        made = await do_create_agent(
            svc,
            store_id=store["id"],
            email=f"p{n}@presence.test",
            name=f"P{n}",
            password=PASSWORD,
            role="admin" if n == 0 else "agent",
        )
        out.append(
            AgentIdentity(made["id"], store["id"], made["name"], made["email"], made["role"], "")
        )
    return out


async def presence_of(svc: Services, agent: AgentIdentity) -> str:
    listed = await agent_service.list_agents(svc, agent.store_id)
    return str(next(a["presence"] for a in listed if a["id"] == agent.id))


def advance(svc: Services, seconds: float) -> None:
    assert isinstance(svc.clock, ManualClock)
    svc.clock.advance(seconds)


async def test_presence_lapses_when_no_node_renews_it(timed: Services) -> None:
    (agent,) = await people(timed, 1)
    await presence.do_connect(timed, agent)
    assert await presence_of(timed, agent) == "online"
    advance(timed, 20)
    await presence.do_renew(timed, [agent.id], [])
    advance(timed, 25)  # renewed 25 s ago: still there
    assert await presence_of(timed, agent) == "online"
    advance(timed, 10)  # the node that had them died: nothing renews
    assert await presence_of(timed, agent) == "offline"


async def test_an_idle_agent_is_found_for_the_automatic_away(timed: Services) -> None:
    admin, agent = await people(timed, 2)
    await do_put_settings(timed, admin, "routing", {"away_after_s": 60})
    await presence.do_connect(timed, agent)
    advance(timed, 50)
    await presence.do_renew(timed, [agent.id], [agent.id])  # typed a moment ago
    advance(timed, 30)
    await presence.do_renew(timed, [agent.id], [])  # the node renews; no activity
    assert await presence.list_idle(timed, [agent.id]) == []
    advance(timed, 31)
    await presence.do_renew(timed, [agent.id], [])
    idle = await presence.list_idle(timed, [agent.id])
    assert [a.id for a in idle] == [agent.id]
    await presence.do_set_presence(timed, agent, "away", automatic=True)
    assert await presence_of(timed, agent) == "away"
    # Away agents are not idle again: nothing to do until they come back.
    assert await presence.list_idle(timed, [agent.id]) == []


async def test_a_gone_agents_conversation_moves_on_after_the_grace_only(timed: Services) -> None:
    admin, leaver = await people(timed, 2)
    await do_put_settings(timed, admin, "routing", {"grace_s": 120})
    await presence.do_connect(timed, leaver)
    visitor = await do_identify_visitor(
        timed,
        store_id=admin.store_id,
        token=None,
        context={},
        address="10.0.0.1",
        user_agent=None,
    )
    handoff = await do_request_person(timed, store_id=admin.store_id, visitor_id=visitor.visitor_id)
    assert handoff is not None
    row = await timed.db.read(
        lambda conn: conversation_store.find_conversation(
            conn, admin.store_id, handoff.conversation_id
        )
    )
    assert (row.status, row.assignee_id) == ("assigned", leaver.id)

    await presence.do_disconnect(timed, leaver)
    advance(timed, 119)
    assert await presence.do_requeue_absent(timed) == 0
    advance(timed, 2)
    assert await presence.do_requeue_absent(timed) == 1
    assert await presence.do_requeue_absent(timed) == 0  # once
    listed = await agent_service.list_agents(timed, admin.store_id)
    assert {a["id"]: a["load"] for a in listed}[leaver.id] == 0


async def places_of(svc: Services, handoffs: list[Event]) -> list[int]:
    """The queue places of the handed-off conversations, in the order given."""
    places = {
        p["conversation_id"]: p["position"]
        for p in await list_queue_places(svc, handoffs[0].store_id)
    }
    return [places[h.conversation_id] for h in handoffs]


async def test_a_proven_big_order_moves_a_conversation_up_the_queue(timed: Services) -> None:
    (admin,) = await people(timed, 1)
    rules = [{"when": "order_total_above", "amount": "200", "priority": 10}]
    await do_put_settings(timed, admin, "routing", {"priority_rules": rules})
    order = {"number": "LP55555", "email": "a@b.test", "postcode": "1", "total": "480.00"}
    await timed.db.write(lambda conn: store_store.upsert_orders(conn, admin.store_id, [order]))
    waiting = []
    for n in range(2):
        visitor = await do_identify_visitor(
            timed,
            store_id=admin.store_id,
            token=None,
            context={},
            address=f"10.0.0.{n + 2}",
            user_agent=None,
        )
        handoff = await do_request_person(
            timed, store_id=admin.store_id, visitor_id=visitor.visitor_id
        )
        assert handoff is not None
        waiting.append(handoff)
        advance(timed, 5)
    # Nobody is online: both wait, first come first served.
    assert await places_of(timed, waiting) == [1, 2]
    # The second shopper's packet names an order they proved is theirs: it goes first.
    await do_write_handoff_context(
        timed,
        store_id=admin.store_id,
        conversation_id=waiting[1].conversation_id,
        handoff_event_id=waiting[1].id,
        packet={"orders": [{"number": "LP55555", "verified": True}]},
    )
    assert await places_of(timed, waiting) == [2, 1]
    # Named but not proven: no priority.
    await do_write_handoff_context(
        timed,
        store_id=admin.store_id,
        conversation_id=waiting[0].conversation_id,
        handoff_event_id=waiting[0].id,
        packet={"orders": [{"number": "LP55555", "verified": False}]},
    )
    assert await places_of(timed, waiting) == [2, 1]
