"""Conversations that continue by email: a real server, a real SMTP server (aiosmtpd).

An agent's reply to a shopper who has left goes out by email through the store's SMTP
server; the shopper's answer, posted raw to the inbound endpoint as a mail server
would, comes back into the same conversation.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from portside.domain.mail import reply_address
from portside.services.conversations import do_send_visitor_message
from portside.services.identity import AgentIdentity, mail_key
from portside.services.stores import do_update_store
from portside.services.visitors import do_identify_visitor
from portside.storage import email_store, store_store
from tests.support.clients import client_id, console, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import POSTGRES_URL, REDIS_URL, LiveServer, free_port
from tests.support.smtp import SmtpInbox, smtp_server

ATTEMPTS = 3


@pytest.fixture(scope="module")
def mail_server(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server that emails after 0.2 s, tries 3 times 0.05 s apart, takes 200 kB mails.

    On PostgreSQL it shares the database `server` has reset; on SQLite it has its own.
    """
    data_dir = tmp_path_factory.mktemp("mail-server")
    url = POSTGRES_URL if server.database_url == POSTGRES_URL else f"sqlite:///{data_dir}/p.db"
    live = LiveServer(
        data_dir=data_dir,
        database_url=url,
        env={
            "PORTSIDE_AGENT": "off",
            "PORTSIDE_LOGINS_PER_MINUTE": "1000",
            "PORTSIDE_EMAIL_DELAY_S": "0.2",
            "PORTSIDE_EMAIL_RETRY_S": "0.05",
            "PORTSIDE_EMAIL_ATTEMPTS": str(ATTEMPTS),
            "PORTSIDE_INBOUND_EMAIL_BYTES": "200000",
        },
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    with smtp_server() as inbox:
        yield inbox


@dataclass
class Shop:
    live: LiveServer
    store: StoreFixture
    admin: httpx.AsyncClient
    secret: str
    key: bytes

    @property
    def reply_domain(self) -> str:
        return f"reply.store{self.store.id}.example"

    @property
    def inbound(self) -> str:
        return f"/api/v1/email/inbound/{self.store.id}/{self.secret}"

    async def shopper(self, email: str | None = "jo@mail.example") -> tuple[int, int]:
        """A shopper who wrote once and left: (visitor id, conversation id)."""
        async with services_for(self.live.database_url, self.live.data_dir) as svc:
            visitor = await do_identify_visitor(
                svc,
                store_id=self.store.id,
                token=None,
                context={},
                address="127.0.0.1",
                user_agent=None,
            )
            sent = await do_send_visitor_message(
                svc,
                store_id=self.store.id,
                visitor_id=visitor.visitor_id,
                client_id=client_id(),
                text="Does the linen shirt come in blue?",
            )
            now = svc.clock.now()
            await svc.db.write(
                lambda conn: store_store.update_visitor(
                    conn, visitor.visitor_id, now=now, email=email, name="Jo"
                )
            )
        return visitor.visitor_id, sent.event.conversation_id

    async def reply(self, conversation_id: int, text: str) -> dict[str, Any]:
        response = await self.admin.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": text},
        )
        assert response.status_code == 201, response.text
        event: dict[str, Any] = response.json()["event"]
        return event

    async def post_mail(
        self, mail: EmailMessage | bytes, path: str | None = None
    ) -> httpx.Response:
        raw = mail if isinstance(mail, bytes) else mail.as_bytes()
        return await self.admin.post(
            path or self.inbound, content=raw, headers={"Content-Type": "message/rfc822"}
        )

    async def events(self, conversation_id: int) -> list[dict[str, Any]]:
        response = await self.admin.get(f"/api/v1/conversations/{conversation_id}/events")
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    async def emails(self, conversation_id: int) -> list[Any]:
        async with services_for(self.live.database_url, self.live.data_dir) as svc:
            return await svc.db.read(lambda conn: email_store.list_emails(conn, conversation_id))


@pytest.fixture
async def shop(mail_server: LiveServer, smtp: SmtpInbox) -> AsyncIterator[Shop]:
    async with services_for(mail_server.database_url, mail_server.data_dir) as svc:
        store = await make_store(svc, origin=mail_server.origin)
        key = mail_key(svc.settings)
    admin = await login(mail_server.base_url, store.agents[0]["email"], PASSWORD)
    secret = secrets.token_urlsafe(24)
    settings = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "from_address": f"help@store{store.id}.example",
        "from_name": "Lotus & Pine",
        "reply_domain": f"reply.store{store.id}.example",
        "inbound_secret": secret,
    }
    response = await admin.put("/api/v1/settings/email", json=settings)
    assert response.status_code == 200, response.text
    yield Shop(mail_server, store, admin, secret, key)
    await admin.aclose()


PASSWORD = "correct horse battery"


def answer(to: str, sent: EmailMessage | None, text: str, **headers: str) -> EmailMessage:
    """The shopper's answer as their mail client writes it, quoting what it answers."""
    mail = EmailMessage()
    mail["From"] = "Jo <jo@mail.example>"
    mail["To"] = to
    mail["Subject"] = "Re: " + (sent["Subject"] if sent is not None else "hello")
    mail["Message-ID"] = f"<{secrets.token_hex(8)}@mail.example>"
    if sent is not None:
        mail["In-Reply-To"] = sent["Message-ID"]
        mail["References"] = sent["Message-ID"]
        quoted = "\n".join(
            "> " + line for line in sent.get_body(("plain",)).get_content().split("\n")
        )
        text = f"{text}\n\nOn Thu, Dec 4, 2026 at 10:00 AM Lotus & Pine <{to}> wrote:\n{quoted}"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


async def test_a_reply_to_a_shopper_who_left_arrives_by_email_with_its_headers(
    shop: Shop, smtp: SmtpInbox
) -> None:
    _visitor, conversation_id = await shop.shopper()
    reply = await shop.reply(conversation_id, "Yes, in blue & white: <M> and <L> left.")
    got = await smtp.next()
    mail = got.message
    assert got.recipients == ["jo@mail.example"]
    assert got.sender == f"help@store{shop.store.id}.example"
    assert shop.store.name in mail["Subject"]
    assert mail["To"].addresses[0].addr_spec == "jo@mail.example"
    assert mail["From"].addresses[0].display_name == "Lotus & Pine"
    assert mail["Message-ID"].startswith(f"<portside.{reply['id']}.")
    assert mail["Message-ID"].endswith(f"@{shop.reply_domain}>")
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to == reply_address(shop.key, shop.store.id, conversation_id, shop.reply_domain)
    assert mail["In-Reply-To"] is None  # the conversation's first email
    assert "Yes, in blue & white: <M> and <L> left." in mail.get_body(("plain",)).get_content()
    assert "&lt;M&gt;" in mail.get_body(("html",)).get_content()

    # The agents see under the reply that it went out (an internal event).
    emailed = await _wait_for_event(shop, conversation_id, "message.emailed")
    assert emailed["data"] == {
        "event_id": reply["id"],
        "status": "sent",
        "to": "jo@mail.example",
        "message_id": mail["Message-ID"],
        "error": None,
    }
    [row] = await shop.emails(conversation_id)
    assert (row.direction, row.status, row.event_id) == ("out", "sent", reply["id"])


async def test_the_shoppers_answer_comes_back_into_the_conversation_once(
    shop: Shop, smtp: SmtpInbox
) -> None:
    _visitor, conversation_id = await shop.shopper()
    await shop.reply(conversation_id, "Which size do you need?")
    sent = (await smtp.next()).message
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    mail = answer(reply_to, sent, "Size M, please.\n\n-- \nJo Smith\nSent from my phone")
    async with console(shop.live.ws_url, shop.admin) as desk:
        await desk.expect("welcome")
        await desk.send(type="follow", conversation_id=conversation_id)
        posted = await shop.post_mail(mail)
        assert posted.status_code == 201, posted.text
        body = posted.json()
        assert body["stored"] is True
        assert body["duplicate"] is False
        assert body["conversation_id"] == conversation_id
        live = await desk.expect(
            "event",
            where=lambda f: (
                f["event"]["type"] == "message.created"
                and f["event"]["actor"]["type"] == "visitor"
                and f["event"]["conversation_id"] == conversation_id
                and f["event"]["data"].get("via") == "email"
            ),
        )
        assert live["event"]["data"]["text"] == "Size M, please."
        assert live["event"]["id"] == body["event"]["id"]

    # The mail server delivers it again: stored once.
    again = await shop.post_mail(mail)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["event"]["id"] == body["event"]["id"]
    texts = [e["data"].get("text") for e in await shop.events(conversation_id)]
    assert texts.count("Size M, please.") == 1

    # The next reply threads under the shopper's answer.
    await shop.reply(conversation_id, "M it is; it ships today.")
    second = (await smtp.next()).message
    assert second["In-Reply-To"] == mail["Message-ID"]
    assert second["References"].split() == [sent["Message-ID"], mail["Message-ID"]]


async def test_an_answer_found_by_its_references_alone_and_a_resolved_one_reopens(
    shop: Shop, smtp: SmtpInbox
) -> None:
    _visitor, conversation_id = await shop.shopper()
    await shop.reply(conversation_id, "Anything else?")
    sent = (await smtp.next()).message
    resolved = await shop.admin.post(f"/api/v1/conversations/{conversation_id}/resolve")
    assert resolved.status_code == 200, resolved.text
    # Forwarded by a mail server that rewrote the recipient: only References says where.
    mail = answer("support@mail.example", sent, "One more thing: gift wrap?")
    posted = await shop.post_mail(mail)
    assert posted.status_code == 201, posted.text
    conversation = (await shop.admin.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert conversation["status"] == "bot"
    assert conversation["preview"] == "One more thing: gift wrap?"


async def test_a_shopper_with_the_page_open_gets_no_email(shop: Shop, smtp: SmtpInbox) -> None:
    async with widget(shop.live.ws_url, shop.store.widget_key, shop.store.origin) as tab:
        welcome = await tab.expect("welcome")
        await tab.send(type="message.send", client_id=client_id(), text="hi, still here")
        online = (await tab.expect("ack"))["conversation_id"]
        async with services_for(shop.live.database_url, shop.live.data_dir) as svc:
            now = svc.clock.now()
            visitor_id = welcome["visitor"]["id"]
            await svc.db.write(
                lambda conn: store_store.update_visitor(
                    conn, visitor_id, now=now, email="here@mail.example"
                )
            )
        await shop.reply(online, "Seen live, not by email.")
        await tab.expect(
            "event", where=lambda f: f["event"]["data"].get("text") == "Seen live, not by email."
        )
        # A shopper who left, answered after: their email is the first and only one.
        _visitor, offline = await shop.shopper(email="left@mail.example")
        await shop.reply(offline, "This one goes by email.")
        got = await smtp.next()
    assert got.recipients == ["left@mail.example"]
    assert smtp.taken() == 0
    assert smtp.attempts == 1
    assert "message.emailed" not in [e["type"] for e in await shop.events(online)]
    assert await shop.emails(online) == []


async def test_no_email_without_an_address_or_for_a_note(shop: Shop, smtp: SmtpInbox) -> None:
    _visitor, nameless = await shop.shopper(email=None)
    await shop.reply(nameless, "Nobody to email.")
    _visitor, known = await shop.shopper()
    note = await shop.admin.post(
        f"/api/v1/conversations/{known}/notes", json={"client_id": client_id(), "text": "memo"}
    )
    assert note.status_code == 201
    await shop.reply(known, "Only this one.")
    got = await smtp.next()
    assert "Only this one." in got.message.get_body(("plain",)).get_content()
    assert smtp.attempts == 1
    assert await shop.emails(nameless) == []


async def test_temporary_failures_are_tried_again_until_the_server_takes_it(
    shop: Shop, smtp: SmtpInbox
) -> None:
    smtp.fail_first = ATTEMPTS - 1
    _visitor, conversation_id = await shop.shopper()
    await shop.reply(conversation_id, "Third time lucky.")
    await smtp.next()
    emailed = await _wait_for_event(shop, conversation_id, "message.emailed")
    assert emailed["data"]["status"] == "sent"
    assert smtp.attempts == ATTEMPTS
    [row] = await shop.emails(conversation_id)
    assert row.status == "sent"
    assert row.error is None


async def test_a_server_that_keeps_refusing_is_tried_a_few_times_then_failed(
    shop: Shop, smtp: SmtpInbox
) -> None:
    smtp.fail_first = 100
    _visitor, conversation_id = await shop.shopper()
    reply = await shop.reply(conversation_id, "You will not get this one.")
    emailed = await _wait_for_event(shop, conversation_id, "message.emailed")
    assert emailed["data"]["status"] == "failed"
    assert emailed["data"]["event_id"] == reply["id"]
    assert "451" in emailed["data"]["error"]
    assert f"tried {ATTEMPTS} times" in emailed["data"]["error"]
    assert smtp.attempts == ATTEMPTS
    [row] = await shop.emails(conversation_id)
    assert (row.status, row.error) == ("failed", emailed["data"]["error"])


async def test_smtp_down_is_retried_then_failed_and_a_permanent_refusal_at_once(
    shop: Shop, smtp: SmtpInbox
) -> None:
    down = free_port()  # nothing listens there
    read = (await shop.admin.get("/api/v1/settings/email")).json()
    settings = {k: v for k, v in read.items() if not k.startswith("has_")}
    moved = await shop.admin.put("/api/v1/settings/email", json={**settings, "port": down})
    assert moved.status_code == 200
    _visitor, conversation_id = await shop.shopper()
    await shop.reply(conversation_id, "Into the void.")
    emailed = await _wait_for_event(shop, conversation_id, "message.emailed")
    assert emailed["data"]["status"] == "failed"
    assert "could not be reached" in emailed["data"]["error"]
    assert f"tried {ATTEMPTS} times" in emailed["data"]["error"]

    # A permanent refusal (5xx) is not tried again.
    assert (await shop.admin.put("/api/v1/settings/email", json=settings)).status_code == 200
    smtp.fail_first, smtp.fail_with = 100, "550 5.1.1 No such mailbox"
    _visitor, other = await shop.shopper()
    await shop.reply(other, "Refused for good.")
    refused = await _wait_for_event(shop, other, "message.emailed")
    assert refused["data"]["status"] == "failed"
    assert refused["data"]["error"].startswith("The mail server answered 550")
    assert smtp.attempts == 1


async def test_forged_unknown_empty_and_malformed_mail_is_refused_and_nothing_stored(
    shop: Shop, smtp: SmtpInbox
) -> None:
    _visitor, conversation_id = await shop.shopper()
    await shop.reply(conversation_id, "Hello from the shop.")
    sent = (await smtp.next()).message
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    await _wait_for_event(shop, conversation_id, "message.emailed")
    before = await shop.events(conversation_id)

    local, domain = reply_to.split("@")
    forged = f"{local[:-4]}{'0000' if local[-4:] != '0000' else '1111'}@{domain}"
    cases: list[tuple[EmailMessage | bytes, int, str]] = [
        (answer(forged, sent, "I am not who I say."), 403, "reply_token_invalid"),
        # Signed for a conversation that does not exist:
        (
            answer(reply_address(shop.key, shop.store.id, 10**9, domain), None, "Hello?"),
            404,
            "not_found",
        ),
        # No reply address of ours and no reference to our emails:
        (answer("someone@else.example", None, "Random mail."), 404, "not_found"),
        (answer(reply_to, sent, ""), 400, "message_empty"),
        (b"this is not an email at all", 400, "email_malformed"),
        (b"", 400, "email_malformed"),
        (b"X" * 200_001, 413, "email_too_large"),
    ]
    for mail, status, code in cases:
        response = await shop.post_mail(mail)
        assert response.status_code == status, (code, response.text)
        assert response.json()["error"]["code"] == code
    wrong_secret = await shop.post_mail(
        answer(reply_to, sent, "hi"), path=f"/api/v1/email/inbound/{shop.store.id}/{'x' * 24}"
    )
    assert wrong_secret.status_code == 403
    assert wrong_secret.json()["error"]["code"] == "forbidden"
    as_json = await shop.admin.post(shop.inbound, json={"text": "hi"})
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "unsupported_media_type"
    assert await shop.events(conversation_id) == before
    assert [row.direction for row in await shop.emails(conversation_id)] == ["out"]


async def test_out_of_office_answers_are_taken_and_ignored(shop: Shop, smtp: SmtpInbox) -> None:
    _visitor, conversation_id = await shop.shopper()
    await shop.reply(conversation_id, "Your order shipped.")
    sent = (await smtp.next()).message
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    await _wait_for_event(shop, conversation_id, "message.emailed")
    before = await shop.events(conversation_id)
    away = answer(reply_to, sent, "I am away until Monday.", Auto_Submitted="auto-replied")
    response = await shop.post_mail(away)
    assert response.status_code == 200
    assert response.json() == {"stored": False, "ignored": "auto_reply"}
    assert await shop.events(conversation_id) == before


async def test_admins_set_email_agents_read_it_without_its_secrets(
    shop: Shop, smtp: SmtpInbox
) -> None:
    agent = await login(shop.live.base_url, shop.store.agents[1]["email"], PASSWORD)
    try:
        read = (await agent.get("/api/v1/settings/email")).json()
        assert read["has_inbound_secret"] is True
        assert read["has_password"] is False
        assert "inbound_secret" not in read
        assert "password" not in read
        assert read["port"] == smtp.port
        assert (await agent.put("/api/v1/settings/email", json={})).status_code == 403
    finally:
        await agent.aclose()
    settings = {k: v for k, v in read.items() if not k.startswith("has_")}
    with_password = await shop.admin.put(
        "/api/v1/settings/email", json={**settings, "username": "shop", "password": "pw"}
    )
    assert with_password.json()["has_password"] is True
    # Left out, the password and the secret are kept.
    kept = await shop.admin.put("/api/v1/settings/email", json={**settings, "username": "shop"})
    assert kept.json()["has_password"] is True
    assert kept.json()["has_inbound_secret"] is True
    for field, value in (
        ("security", "ssl"),
        ("port", 70000),
        ("from_address", "not an address"),
        ("reply_domain", "http://reply.example"),
        ("inbound_secret", "short"),
    ):
        wrong = await shop.admin.put("/api/v1/settings/email", json={**settings, field: value})
        assert wrong.status_code == 400
        assert wrong.json()["error"]["details"][0]["field"] == field
    missing = await shop.admin.put("/api/v1/settings/email", json={**settings, "reply_domain": ""})
    assert missing.json()["error"]["details"][0]["field"] == "reply_domain"


async def _wait_for_event(shop: Shop, conversation_id: int, kind: str) -> dict[str, Any]:
    """The conversation's event of `kind`, once the relay has written it."""
    async with console(shop.live.ws_url, shop.admin) as desk:
        await desk.expect("welcome")
        await desk.send(type="follow", conversation_id=conversation_id)
        await desk.send(type="ping")
        await desk.expect("pong")  # following now: read the log, then wait for it live
        for event in await shop.events(conversation_id):
            if event["type"] == kind:
                return event
        frame = await desk.expect(
            "event",
            timeout=10,
            where=lambda f: (
                f["event"]["type"] == kind and f["event"]["conversation_id"] == conversation_id
            ),
        )
        found: dict[str, Any] = frame["event"]
        return found


@pytest.fixture
def nodes(
    mail_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    """Two more nodes on the shared PostgreSQL and Redis, with mail_server's secret."""
    if not (mail_server.database_url == POSTGRES_URL and REDIS_URL):
        pytest.skip("two nodes share PostgreSQL and Redis")
    started = []
    for _node in ("a", "b"):
        node = LiveServer(
            data_dir=mail_server.data_dir,
            database_url=POSTGRES_URL,
            env={**mail_server.env, "PORTSIDE_REDIS_URL": REDIS_URL},
        )
        node.start()
        started.append(node)
    yield started
    for node in started:
        node.stop()


async def test_a_shopper_on_another_node_gets_no_email(
    shop: Shop, smtp: SmtpInbox, nodes: list[LiveServer]
) -> None:
    a, b = nodes
    async with services_for(b.database_url, b.data_dir) as svc:
        admin = AgentIdentity(
            shop.store.agents[0]["id"], shop.store.id, "Admin", "a@x", "admin", "-"
        )
        await do_update_store(svc, admin, {"allowed_origins": [a.origin, b.origin]})
    desk = await login(b.base_url, shop.store.agents[0]["email"], PASSWORD)
    try:
        async with widget(a.ws_url, shop.store.widget_key, a.origin) as tab:
            welcome = await tab.expect("welcome")
            await tab.send(type="message.send", client_id=client_id(), text="on node A")
            online = (await tab.expect("ack"))["conversation_id"]
            async with services_for(b.database_url, b.data_dir) as svc:
                now = svc.clock.now()
                visitor_id = welcome["visitor"]["id"]
                await svc.db.write(
                    lambda conn: store_store.update_visitor(
                        conn, visitor_id, now=now, email="on-a@mail.example"
                    )
                )
            sent = await desk.post(
                f"/api/v1/conversations/{online}/messages",
                json={"client_id": client_id(), "text": "from node B"},
            )
            assert sent.status_code == 201
            await tab.expect(
                "event", where=lambda f: f["event"]["data"].get("text") == "from node B"
            )
            # Node B does not have the shopper, but node A said it does: no email. The
            # reply to a shopper nowhere, made after, is the only one.
            _visitor, offline = await shop.shopper(email="nowhere@mail.example")
            await desk.post(
                f"/api/v1/conversations/{offline}/messages",
                json={"client_id": client_id(), "text": "by email"},
            )
            got = await smtp.next()
    finally:
        await desk.aclose()
    assert got.recipients == ["nowhere@mail.example"]
    assert smtp.attempts == 1
    assert await shop.emails(online) == []
