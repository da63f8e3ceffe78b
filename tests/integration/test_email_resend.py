"""Emails a node left `pending` when it died in the middle of sending them: sent once by
another node, with the same Message-ID (a real SMTP server; SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portside.domain.conversations import EventType
from portside.domain.mail import message_id_for
from portside.mail.smtp import SmtpTransport
from portside.services.context import Services
from portside.services.conversations import do_send_agent_message, do_send_visitor_message
from portside.services.email_out import EmailRelay
from portside.services.email_resend import TOO_OLD, do_resend_stalled
from portside.services.identity import AgentIdentity, mail_key
from portside.services.settings import do_put_settings
from portside.services.visitors import do_identify_visitor
from portside.storage import email_store, store_store
from portside.storage.tables import events
from tests.support.clients import client_id, login
from tests.support.factories import PASSWORD, StoreFixture, make_store, services_for
from tests.support.server import POSTGRES_URL, LiveServer
from tests.support.smtp import SmtpInbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    with smtp_server() as inbox:
        yield inbox


@dataclass
class Mailing:
    store: StoreFixture
    admin: AgentIdentity
    domain: str


async def mailing_store(svc: Services, smtp: SmtpInbox, origin: str) -> Mailing:
    store = await make_store(svc, origin=origin)
    first = store.agents[0]
    admin = AgentIdentity(first["id"], store.id, first["name"], first["email"], "admin", "")
    domain = f"reply.store{store.id}.example"
    await do_put_settings(
        svc,
        admin,
        "email",
        {
            "enabled": True,
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "from_address": f"help@store{store.id}.example",
            "reply_domain": domain,
            "inbound_secret": "s" * 24,
        },
    )
    return Mailing(store, admin, domain)


async def shopper_who_left(svc: Services, store_id: int) -> int:
    """A shopper who wrote and left their address: the conversation's id."""
    visitor = await do_identify_visitor(
        svc, store_id=store_id, token=None, context={}, address="127.0.0.1", user_agent=None
    )
    sent = await do_send_visitor_message(
        svc,
        store_id=store_id,
        visitor_id=visitor.visitor_id,
        client_id=client_id(),
        text="Is the teapot back in stock?",
    )
    now = svc.clock.now()
    await svc.db.write(
        lambda conn: store_store.update_visitor(
            conn, visitor.visitor_id, now=now, email="jo@mail.example"
        )
    )
    return sent.event.conversation_id


async def left_pending(
    svc: Services, mailing: Mailing, conversation_id: int, ago: timedelta
) -> Any:
    """An agent's reply whose email a node began to send `ago` and then died: its row."""
    reply = await do_send_agent_message(
        svc,
        mailing.admin,
        conversation_id=conversation_id,
        client_id=client_id(),
        text="It is, since this morning.",
    )
    event = reply.event
    message_id = message_id_for(mail_key(svc.settings), event.id, mailing.domain)
    then = svc.clock.now() - ago
    await svc.db.write(
        lambda conn: email_store.insert_email(
            conn,
            store_id=event.store_id,
            conversation_id=conversation_id,
            direction="out",
            message_id=message_id,
            event_id=event.id,
            status="pending",
            now=then,
        )
    )
    return await svc.db.read(lambda conn: email_store.find_email(conn, event.store_id, message_id))


async def emailed_events(svc: Services, conversation_id: int) -> list[dict[str, Any]]:
    """The `message.emailed` events of a conversation: what its agents were told."""
    query = select(events.c.data).where(
        events.c.conversation_id == conversation_id,
        events.c.type == EventType.MESSAGE_EMAILED.value,
    )
    return [dict(row.data) for row in await svc.db.read(lambda conn: conn.execute(query).all())]


def quick(svc: Services) -> Services:
    """A node of this database whose emails are tried twice, briefly, and count as
    stalled a second after their next try was due."""
    limits = replace(svc.settings.limits, email_retry_s=0.01, email_attempts=2, email_stalled_s=1.0)
    settings = replace(svc.settings, limits=limits)
    return Services(settings=settings, db=svc.db, bus=svc.bus, clock=svc.clock)


def relay_of(svc: Services) -> EmailRelay:
    return EmailRelay(svc, SmtpTransport(), lambda _store, _visitor: False)


async def test_a_stalled_email_is_sent_once_by_one_of_two_nodes_with_its_message_id(
    svc: Services, smtp: SmtpInbox, server: LiveServer
) -> None:
    a, b = quick(svc), quick(svc)
    mailing = await mailing_store(a, smtp, server.origin)
    conversation_id = await shopper_who_left(a, mailing.store.id)
    # Left 30 s ago: stalled for these nodes (after 1 s), not for `server` (minutes).
    stalled = await left_pending(a, mailing, conversation_id, timedelta(seconds=30))
    fresh_conversation = await shopper_who_left(a, mailing.store.id)
    # Touched a moment ago: its node is between two tries.
    fresh = await left_pending(a, mailing, fresh_conversation, timedelta(0))

    taken = await asyncio.gather(
        do_resend_stalled(a, relay_of(a)), do_resend_stalled(b, relay_of(b))
    )

    assert sum(taken) == 1
    got = await smtp.next()
    assert got.message["Message-ID"] == stalled.message_id
    assert got.recipients == ["jo@mail.example"]
    assert "It is, since this morning." in got.message.get_body(("plain",)).get_content()
    assert smtp.taken() == 0
    row = await a.db.read(
        lambda conn: email_store.find_email(conn, mailing.store.id, stalled.message_id)
    )
    assert row.status == "sent"
    assert [e["status"] for e in await emailed_events(a, conversation_id)] == ["sent"]
    untouched = await a.db.read(
        lambda conn: email_store.find_email(conn, mailing.store.id, fresh.message_id)
    )
    assert (untouched.status, untouched.updated_at) == ("pending", fresh.updated_at)
    # Nothing left to take.
    assert await do_resend_stalled(b, relay_of(b)) == 0
    assert smtp.attempts == 1


async def test_a_stalled_email_a_day_old_is_marked_failed_not_sent(
    svc: Services, smtp: SmtpInbox, server: LiveServer
) -> None:
    node = quick(svc)
    mailing = await mailing_store(node, smtp, server.origin)
    conversation_id = await shopper_who_left(node, mailing.store.id)
    old = await left_pending(node, mailing, conversation_id, timedelta(days=1, minutes=1))

    await do_resend_stalled(node, relay_of(node))

    row = await node.db.read(
        lambda conn: email_store.find_email(conn, mailing.store.id, old.message_id)
    )
    assert (row.status, row.error) == ("failed", TOO_OLD)
    assert smtp.attempts == 0


@pytest.fixture
async def data_dir(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    del server  # for its backend
    return tmp_path_factory.mktemp("resend")


async def test_a_node_killed_between_two_tries_has_its_email_sent_by_the_next_node(
    server: LiveServer, data_dir: Path, smtp: SmtpInbox
) -> None:
    url = POSTGRES_URL if server.database_url == POSTGRES_URL else f"sqlite:///{data_dir}/p.db"
    mail = {
        "PORTSIDE_AGENT": "off",
        "PORTSIDE_EMAIL_DELAY_S": "0.2",
        "PORTSIDE_EMAIL_ATTEMPTS": "3",
    }
    # Node A waits 30 s before its second try: it is killed meanwhile.
    a = LiveServer(
        data_dir=data_dir, database_url=url, env={**mail, "PORTSIDE_EMAIL_RETRY_S": "30"}
    )
    a.start()
    smtp.fail_first = 1
    try:
        async with services_for(url, data_dir) as svc:
            mailing = await mailing_store(svc, smtp, a.origin)
            conversation_id = await shopper_who_left(svc, mailing.store.id)
            desk = await login(a.base_url, mailing.store.agents[0]["email"], PASSWORD)
            sent = await desk.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"client_id": client_id(), "text": "It is, since this morning."},
            )
            await desk.aclose()
            assert sent.status_code == 201, sent.text
            row = await first_try_failed(svc, conversation_id)
    finally:
        assert a.process is not None
        a.process.kill()  # SIGKILL: nothing is finished, nothing let go
        a.process.wait()
        a.process = None
    assert smtp.attempts == 1
    assert row.status == "pending"

    b = LiveServer(
        data_dir=data_dir,
        database_url=url,
        env={**mail, "PORTSIDE_EMAIL_RETRY_S": "0.05", "PORTSIDE_EMAIL_STALLED_S": "1"},
    )
    b.start()
    try:
        got = await smtp.next(timeout=30)
        async with services_for(url, data_dir) as svc:
            done = await eventually_done(svc, mailing.store.id, row.message_id)
            told = await emailed_events(svc, conversation_id)
    finally:
        b.stop()
    assert got.message["Message-ID"] == row.message_id
    assert smtp.attempts == 2
    assert done.status == "sent"
    assert [e["status"] for e in told] == ["sent"]


async def first_try_failed(svc: Services, conversation_id: int) -> Any:
    """The conversation's email once its first try has failed (node A writes it)."""
    for _ in range(200):
        rows = await svc.db.read(lambda conn: email_store.list_emails(conn, conversation_id))
        if rows and (rows[0].error or "").startswith("try 1 of"):
            return rows[0]
        await asyncio.sleep(0.1)
    raise AssertionError("node A never tried the email")


async def eventually_done(svc: Services, store_id: int, message_id: str) -> Any:
    for _ in range(200):
        row = await svc.db.read(lambda conn: email_store.find_email(conn, store_id, message_id))
        if row.status != "pending":
            return row
        await asyncio.sleep(0.05)
    return row
