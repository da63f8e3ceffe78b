"""A widget's hello costs one transaction: the shopper, their page and their open
conversation are read and written together (services/visitors.py). A shopper coming
back to the same page while still online costs no write at all, and the reads of many
such hellos at once are shared (services/hello_batch.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portside.clock import ManualClock
from portside.services import visitor_presence
from portside.services.context import Services
from portside.services.conversations import do_send_visitor_message
from portside.services.inbox import find_visitor_conversation
from portside.services.store_keys import find_store_by_key_cached
from portside.services.stores import do_create_store
from portside.services.visitors import VisitorSession, do_identify_visitor
from portside.storage import presence_store, store_store
from portside.storage.migrate import upgrade_async
from tests.support.clients import client_id
from tests.support.counting import counting
from tests.support.factories import services_for


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    url = f"sqlite:///{tmp_path / 'hello.db'}"
    await upgrade_async(url)
    async with services_for(url, tmp_path) as services:
        yield services


@pytest.fixture
async def timed(svc: Services) -> Services:
    return Services(settings=svc.settings, db=svc.db, bus=svc.bus, clock=ManualClock())


PAGE = {"page_url": "https://shop.test/products/linen", "page_title": "Linen shirt"}


async def hello(
    svc: Services, store_id: int, token: str | None, address: str = "10.0.0.1", **page: Any
) -> VisitorSession:
    """A widget's hello, as realtime/widget_session.py makes it."""
    return await do_identify_visitor(
        svc,
        store_id=store_id,
        token=token,
        context=page or PAGE,
        address=address,
        user_agent=None,
        online_until=visitor_presence.online_until(svc),
    )


def advance(svc: Services, seconds: float) -> None:
    assert isinstance(svc.clock, ManualClock)
    svc.clock.advance(seconds)


async def row_of(svc: Services, store_id: int, visitor_id: int) -> Any:
    return await svc.db.read(lambda conn: store_store.find_visitor(conn, store_id, visitor_id))


async def make_store(svc: Services) -> int:
    store = await do_create_store(
        svc, name="Hello", allowed_origins=["http://shop.test"], default_language="en"
    )
    return int(store["id"])


async def test_a_returning_shopper_is_welcomed_back_to_their_conversation(svc: Services) -> None:
    store = await do_create_store(
        svc, name="Hello", allowed_origins=["http://shop.test"], default_language="en"
    )
    first = await do_identify_visitor(
        svc, store_id=store["id"], token=None, context={}, address="10.0.0.1", user_agent=None
    )
    assert first.conversation is None
    sent = await do_send_visitor_message(
        svc,
        store_id=store["id"],
        visitor_id=first.visitor_id,
        client_id=client_id(),
        text="Do you ship to Lisbon?",
    )
    # Back on another page: the page is logged in the conversation, and the welcome's
    # last_seq includes it, as a read after the write would.
    back = await do_identify_visitor(
        svc,
        store_id=store["id"],
        token=first.token,
        context={"page_url": "https://shop.test/cart", "page_title": "Cart"},
        address="10.0.0.1",
        user_agent=None,
    )
    assert back.visitor_id == first.visitor_id
    assert back.conversation is not None
    assert back.conversation["id"] == sent.event.conversation_id
    assert back.conversation == await find_visitor_conversation(svc, store["id"], first.visitor_id)
    assert back.conversation["last_seq"] > sent.event.seq


async def test_a_shopper_back_on_the_same_page_while_online_costs_no_write(
    timed: Services,
) -> None:
    store_id = await make_store(timed)
    first = await hello(timed, store_id, None)
    await do_send_visitor_message(
        timed, store_id=store_id, visitor_id=first.visitor_id, client_id=client_id(), text="Hi"
    )
    before = await row_of(timed, store_id, first.visitor_id)
    assert before.online_until == first.online_until

    # Their node died; five seconds on, the widget says hello to another node.
    advance(timed, 5)
    back = await hello(timed, store_id, first.token)
    assert back.visitor_id == first.visitor_id
    assert back.token_error is None
    assert back.conversation == await find_visitor_conversation(timed, store_id, first.visitor_id)
    # Nothing written: the online state the other node wrote stands, and this node
    # takes it as its own (its renewals come before it lapses).
    assert back.online_until == first.online_until
    assert await row_of(timed, store_id, first.visitor_id) == before

    # Too close to lapsing for this node's next renewal: written again.
    advance(timed, visitor_presence.ONLINE_TTL_S - visitor_presence.RENEW_S - 6)
    again = await hello(timed, store_id, back.token)
    assert again.online_until == visitor_presence.online_until(timed)
    after = await row_of(timed, store_id, first.visitor_id)
    assert after.online_until == again.online_until
    assert after.last_seen_at == timed.clock.now()


async def test_a_shopper_on_a_new_page_is_written_even_while_online(timed: Services) -> None:
    store_id = await make_store(timed)
    first = await hello(timed, store_id, None)
    advance(timed, 1)
    cart = {"page_url": "https://shop.test/cart", "page_title": "Cart"}
    back = await hello(timed, store_id, first.token, **cart)
    row = await row_of(timed, store_id, first.visitor_id)
    assert (row.page_url, row.page_title) == (cart["page_url"], cart["page_title"])
    assert row.last_seen_at == timed.clock.now()
    assert row.online_until == back.online_until == visitor_presence.online_until(timed)
    # And a new language says where they are: the country changes with it.
    advance(timed, 1)
    await hello(timed, store_id, back.token, **cart, language="pt-BR", timezone="America/Sao_Paulo")
    assert (await row_of(timed, store_id, first.visitor_id)).country == "BR"


async def test_many_shoppers_back_at_once_share_their_reads_and_get_their_own_answers(
    timed: Services,
) -> None:
    store_id = await make_store(timed)
    other_store = await make_store(timed)
    # Each from an address of their own: new shoppers are limited per address.
    shoppers = [await hello(timed, store_id, None, f"10.1.0.{n}") for n in range(150)]
    elsewhere = [await hello(timed, other_store, None, f"10.2.0.{n}") for n in range(50)]
    for n, shopper in enumerate(shoppers[::3]):
        await do_send_visitor_message(
            timed,
            store_id=store_id,
            visitor_id=shopper.visitor_id,
            client_id=client_id(),
            text=f"Question {n}",
        )
    everyone = [(store_id, s) for s in shoppers] + [(other_store, s) for s in elsewhere]
    with counting(timed, "read") as reads:
        backs = await asyncio.gather(*(hello(timed, store, s.token) for store, s in everyone))
    assert reads.count < len(everyone) / 10
    for (store, shopper), back in zip(everyone, backs, strict=True):
        assert back.visitor_id == shopper.visitor_id
        assert back.conversation == await find_visitor_conversation(
            timed, store, shopper.visitor_id
        )


async def test_hellos_that_find_the_kept_store_gone_read_it_once(timed: Services) -> None:
    store_id = await make_store(timed)
    other_id = await make_store(timed)
    keys = {}
    for sid in (store_id, other_id):
        row = await timed.db.read(lambda conn, sid=sid: store_store.find_store(conn, sid))
        keys[sid] = row.widget_key
    asked = [keys[store_id]] * 300 + [keys[other_id]] * 100 + ["pk_nobody"] * 20
    with counting(timed, "read") as reads:
        found = await asyncio.gather(*(find_store_by_key_cached(timed, key) for key in asked))
        assert [None if row is None else row.id for row in found] == (
            [store_id] * 300 + [other_id] * 100 + [None] * 20
        )
        assert reads.count == 1
        # Kept now: the next hellos read nothing; a key with no store is read again.
        assert (await find_store_by_key_cached(timed, keys[other_id])).id == other_id
        assert await find_store_by_key_cached(timed, "pk_nobody") is None
        assert reads.count == 2


async def test_shoppers_back_after_their_widgets_all_closed_are_online_again_in_a_batch(
    timed: Services,
) -> None:
    # A load balancer restarted: every widget closed (their online states ended), and
    # all come back at once on the same pages.
    store_id = await make_store(timed)
    shoppers = [await hello(timed, store_id, None, f"10.3.0.{n}") for n in range(100)]
    ended = timed.clock.now()
    ids = [s.visitor_id for s in shoppers]
    await timed.db.write(
        lambda conn: [
            presence_store.end_visitor_online(conn, i, written=s.online_until, now=ended)
            for i, s in zip(ids, shoppers, strict=True)
        ]
    )
    advance(timed, 2)
    with counting(timed, "write") as writes:
        backs = await asyncio.gather(*(hello(timed, store_id, s.token) for s in shoppers))
    assert writes.count < len(shoppers) / 10
    until = visitor_presence.online_until(timed)
    assert [back.online_until for back in backs] == [until] * len(shoppers)
    for visitor_id in ids:
        row = await row_of(timed, store_id, visitor_id)
        assert (row.online_until, row.last_seen_at) == (until, timed.clock.now())
