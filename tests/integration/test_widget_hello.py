"""A widget's hello costs one transaction: the shopper, their page and their open
conversation are read and written together (services/visitors.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portside.services.context import Services
from portside.services.conversations import do_send_visitor_message
from portside.services.inbox import find_visitor_conversation
from portside.services.stores import do_create_store
from portside.services.visitors import do_identify_visitor
from portside.storage.migrate import upgrade_async
from tests.support.clients import client_id
from tests.support.factories import services_for


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    url = f"sqlite:///{tmp_path / 'hello.db'}"
    await upgrade_async(url)
    async with services_for(url, tmp_path) as services:
        yield services


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
