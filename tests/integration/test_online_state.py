"""Who is here across nodes, in virtual time over a real database: shoppers' online state
and agents' presence lapse without renewal, a node ends only what no other node renewed
after it, and a shopper online on any node gets no email.

Two `OnlineVisitors` on one database and one bus stand for two nodes; the real
processes are in test_cluster_presence.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from portside.clock import ManualClock
from portside.domain.mail import SmtpServer
from portside.realtime.online import OnlineVisitors
from portside.services import presence, visitor_presence
from portside.services.context import Services
from portside.services.conversations import do_send_visitor_message
from portside.services.email_out import EmailRelay
from portside.services.identity import AgentIdentity
from portside.services.routing import effective_presence
from portside.services.settings import do_put_settings
from portside.services.stores import do_create_agent, do_create_store
from portside.services.visitors import do_identify_visitor
from portside.storage import presence_store, store_store
from portside.storage.migrate import upgrade_async
from tests.support.clients import client_id
from tests.support.counting import counting
from tests.support.factories import PASSWORD, services_for


@pytest.fixture
async def timed(tmp_path: Path) -> AsyncIterator[Services]:
    url = f"sqlite:///{tmp_path / 'online.db'}"
    await upgrade_async(url)
    async with services_for(url, tmp_path) as svc:
        yield Services(settings=svc.settings, db=svc.db, bus=svc.bus, clock=ManualClock())


@pytest.fixture
async def two_nodes(timed: Services) -> AsyncIterator[tuple[OnlineVisitors, OnlineVisitors]]:
    """Nodes A and B's part in shoppers' online state, on one database and one bus."""
    a, b = OnlineVisitors(timed), OnlineVisitors(timed)
    a.start()
    b.start()
    yield a, b
    await a.close()
    await b.close()


async def admin_of(svc: Services) -> AgentIdentity:
    store = await do_create_store(
        svc,
        name="Online",
        allowed_origins=["http://shop.test"],
        default_language="en",
        timezone="UTC",
    )
    made = await do_create_agent(
        svc,
        store_id=store["id"],
        email="admin@online.test",
        name="Admin",
        password=PASSWORD,
        role="admin",
    )
    return AgentIdentity(made["id"], store["id"], made["name"], made["email"], "admin", "")


async def shopper(svc: Services, store_id: int, online_until: Any = None) -> int:
    visitor = await do_identify_visitor(
        svc,
        store_id=store_id,
        token=None,
        context={},
        address="10.0.0.1",
        user_agent=None,
        online_until=online_until,
    )
    return visitor.visitor_id


def advance(svc: Services, seconds: float) -> None:
    assert isinstance(svc.clock, ManualClock)
    svc.clock.advance(seconds)


async def eventually_online(svc: Services, store_id: int, visitor_id: int) -> bool:
    """Whether the shopper reads as online, once the nodes' work in flight is done."""
    for _ in range(200):
        if await visitor_presence.is_online(svc, store_id, visitor_id):
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_shoppers_online_state_lapses_when_no_node_renews_it(timed: Services) -> None:
    admin = await admin_of(timed)
    visitor_id = await shopper(timed, admin.store_id, visitor_presence.online_until(timed))
    assert await visitor_presence.is_online(timed, admin.store_id, visitor_id)
    advance(timed, 20)
    await visitor_presence.do_renew_online(timed, [visitor_id])
    advance(timed, 25)  # renewed 25 s ago: still there
    assert await visitor_presence.is_online(timed, admin.store_id, visitor_id)
    advance(timed, 10)  # the node that had them died: nothing renews
    assert not await visitor_presence.is_online(timed, admin.store_id, visitor_id)


async def test_a_renewal_says_when_the_shopper_was_last_seen(timed: Services) -> None:
    # A widget coming back to the same page writes nothing (services/visitors.py): the
    # renewals of the node that holds it keep last_seen_at true.
    admin = await admin_of(timed)
    visitor_id = await shopper(timed, admin.store_id, visitor_presence.online_until(timed))
    advance(timed, visitor_presence.RENEW_S)
    await visitor_presence.do_renew_online(timed, [visitor_id])
    row = await timed.db.read(lambda c: store_store.find_visitor(c, admin.store_id, visitor_id))
    assert row.last_seen_at == timed.clock.now()
    assert row.online_until == visitor_presence.online_until(timed)


async def test_a_shopper_who_never_opened_the_widget_is_not_online(timed: Services) -> None:
    admin = await admin_of(timed)
    visitor_id = await shopper(timed, admin.store_id)
    assert not await visitor_presence.is_online(timed, admin.store_id, visitor_id)
    # Another store's shopper id reads as nobody.
    assert not await visitor_presence.is_online(timed, admin.store_id + 1, visitor_id)


async def test_a_renewal_round_covers_thousands_of_shoppers(timed: Services) -> None:
    admin = await admin_of(timed)
    now = timed.clock.now()

    def many(conn: Any) -> list[int]:
        return [
            store_store.insert_visitor(
                conn, store_id=admin.store_id, created_at=now, last_seen_at=now
            )
            for _ in range(presence_store.RENEW_CHUNK * 2 + 500)
        ]

    ids = await timed.db.write(many)
    await visitor_presence.do_renew_online(timed, ids)
    advance(timed, visitor_presence.ONLINE_TTL_S - 1)
    sample = [*ids[::250], ids[-1]]
    online = [await visitor_presence.is_online(timed, admin.store_id, i) for i in sample]
    assert online == [True] * len(sample)


async def test_a_node_ends_only_the_online_state_no_other_node_renewed_after_it(
    timed: Services, two_nodes: tuple[OnlineVisitors, OnlineVisitors]
) -> None:
    a, b = two_nodes
    admin = await admin_of(timed)
    written_a = a.until()
    visitor_id = await shopper(timed, admin.store_id, written_a)
    a.connected(visitor_id, written_a)
    advance(timed, 3)
    written_b = b.until()  # the same shopper opens the shop in a tab balanced to B
    await timed.db.write(
        lambda conn: presence_store.set_visitor_online(conn, visitor_id, written_b)
    )
    b.connected(visitor_id, written_b)

    # Node A wrote first: its widget closing leaves B's later renewal in place.
    await a.disconnected(visitor_id)
    assert await visitor_presence.is_online(timed, admin.store_id, visitor_id)

    # A again, now the later writer: its end goes through, B hears and renews at once.
    advance(timed, 3)
    written_a = a.until()
    await timed.db.write(
        lambda conn: presence_store.set_visitor_online(conn, visitor_id, written_a)
    )
    a.connected(visitor_id, written_a)
    await a.disconnected(visitor_id)
    assert await eventually_online(timed, admin.store_id, visitor_id)

    # The last widget anywhere closes: offline at once.
    await b.disconnected(visitor_id)
    assert not await visitor_presence.is_online(timed, admin.store_id, visitor_id)


async def test_a_stopping_node_ends_no_online_state(timed: Services) -> None:
    admin = await admin_of(timed)
    node = OnlineVisitors(timed)
    node.start()
    written = node.until()
    visitor_id = await shopper(timed, admin.store_id, written)
    node.connected(visitor_id, written)
    node.leaving()  # the widget reconnects to another node, which renews it
    await node.disconnected(visitor_id)
    await node.close()
    assert await visitor_presence.is_online(timed, admin.store_id, visitor_id)


async def test_widgets_closing_together_end_in_few_transactions_each_on_its_own_terms(
    timed: Services, two_nodes: tuple[OnlineVisitors, OnlineVisitors]
) -> None:
    a, b = two_nodes
    admin = await admin_of(timed)
    written_a = a.until()
    now = timed.clock.now()

    def many(conn: Any) -> list[int]:
        return [
            store_store.insert_visitor(
                conn,
                store_id=admin.store_id,
                created_at=now,
                last_seen_at=now,
                online_until=written_a,
            )
            for _ in range(120)
        ]

    shoppers = await timed.db.write(many)
    for visitor_id in shoppers:
        a.connected(visitor_id, written_a)
    # A third of them also opened a tab on node B, which wrote after A.
    advance(timed, 3)
    written_b = b.until()
    also_on_b = shoppers[::3]
    await visitor_presence.do_renew_online(timed, also_on_b)
    for visitor_id in also_on_b:
        b.connected(visitor_id, written_b)

    # Node A's widgets all close at once (its load balancer restarted).
    with counting(timed, "write") as writes:
        await asyncio.gather(*(a.disconnected(visitor_id) for visitor_id in shoppers))
    assert writes.count < len(shoppers) / 10
    online = {
        visitor_id: await visitor_presence.is_online(timed, admin.store_id, visitor_id)
        for visitor_id in shoppers
    }
    # Those with a tab on B stay online (B renewed them after A); the rest are off.
    assert online == {visitor_id: visitor_id in also_on_b for visitor_id in shoppers}


async def test_an_agents_presence_outlives_the_end_by_a_node_that_renewed_earlier(
    timed: Services,
) -> None:
    admin = await admin_of(timed)
    written_a = await presence.do_connect(timed, admin)  # a console on node A
    advance(timed, 4)
    written_b = await presence.do_renew(timed, [admin.id], [])  # and one on node B
    assert written_b is not None and written_b > written_a
    assert not await presence.do_disconnect(timed, admin, written=written_a)
    assert await presence_now(timed, admin) == "online"
    assert await presence.do_disconnect(timed, admin, written=written_b)
    assert await presence_now(timed, admin) == "offline"


async def presence_now(svc: Services, agent: AgentIdentity) -> str:
    row = await svc.db.read(lambda conn: store_store.find_agent(conn, agent.id))
    return effective_presence(row, svc.clock.now()).value


class KeptMail:
    """A MailTransport that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, server: SmtpServer, message: EmailMessage) -> None:
        del server
        self.sent.append(message)


async def test_a_reply_to_a_shopper_online_on_any_node_is_not_emailed(timed: Services) -> None:
    admin = await admin_of(timed)
    await do_put_settings(
        timed,
        admin,
        "email",
        {
            "enabled": True,
            "host": "127.0.0.1",
            "port": 2525,
            "security": "none",
            "from_address": "help@online.example",
            "reply_domain": "reply.online.example",
            "inbound_secret": "s" * 32,
        },
    )
    # This node has no widget of the shopper's; another node renewed them a moment ago.
    mail = KeptMail()
    relay = EmailRelay(timed, mail, lambda _store, _visitor: False)
    visitor_id = await shopper(timed, admin.store_id, visitor_presence.online_until(timed))
    now = timed.clock.now()
    await timed.db.write(
        lambda conn: store_store.update_visitor(conn, visitor_id, now=now, email="jo@mail.test")
    )
    sent = await do_send_visitor_message(
        timed,
        store_id=admin.store_id,
        visitor_id=visitor_id,
        client_id=client_id(),
        text="Is it waterproof?",
    )
    reply = {
        "store_id": admin.store_id,
        "conversation_id": sent.event.conversation_id,
        "visitor_id": visitor_id,
        "event_id": sent.event.id,
        "text": "Yes, it is.",
        "agent": "Admin",
    }
    assert await relay.deliver(reply) is None
    assert mail.sent == []
    # Their node died: once the state lapses, the reply goes by email.
    advance(timed, visitor_presence.ONLINE_TTL_S + 1)
    assert await relay.deliver(reply) == "sent"
    assert [m["To"] for m in mail.sent] == ["jo@mail.test"]
