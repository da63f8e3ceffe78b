"""The console shows that a reply went out by email, and the answer that came back."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from playwright.async_api import Browser, expect

from portside.services.conversations import do_send_visitor_message
from portside.services.visitors import do_identify_visitor
from portside.storage import store_store
from tests.browser.test_chat_in_browser import watch_for_errors
from tests.support.clients import client_id, login
from tests.support.factories import PASSWORD, make_store, services_for
from tests.support.server import LiveServer
from tests.support.smtp import SmtpInbox, smtp_server


@pytest.fixture(scope="module")
def email_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("email-browser")
    live = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={
            "PORTSIDE_AGENT": "off",
            "PORTSIDE_LOGINS_PER_MINUTE": "1000",
            "PORTSIDE_EMAIL_DELAY_S": "0.2",
        },
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    with smtp_server() as inbox:
        yield inbox


async def test_the_agent_sees_the_email_under_the_reply_and_the_answer_by_email(
    browser: Browser, email_server: LiveServer, smtp: SmtpInbox
) -> None:
    async with services_for(email_server.database_url, email_server.data_dir) as svc:
        store = await make_store(svc, origin=email_server.origin, agents=1)
        visitor = await do_identify_visitor(
            svc, store_id=store.id, token=None, context={}, address="127.0.0.1", user_agent=None
        )
        first = await do_send_visitor_message(
            svc,
            store_id=store.id,
            visitor_id=visitor.visitor_id,
            client_id=client_id(),
            text="Is the shirt in stock?",
        )
        now = svc.clock.now()
        await svc.db.write(
            lambda conn: store_store.update_visitor(
                conn, visitor.visitor_id, now=now, email="jo@mail.example"
            )
        )
    conversation_id = first.event.conversation_id
    admin = store.agents[0]["email"]
    http = await login(email_server.base_url, admin, PASSWORD)
    secret = secrets.token_urlsafe(24)
    settings = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "from_address": "help@shop.example",
        "reply_domain": "reply.shop.example",
        "inbound_secret": secret,
    }
    assert (await http.put("/api/v1/settings/email", json=settings)).status_code == 200

    errors: list[str] = []
    context = await browser.new_context(timezone_id="Asia/Shanghai", locale="en-GB")
    desk = await context.new_page()
    watch_for_errors(desk, errors)
    await desk.goto(f"{email_server.base_url}/console/")
    await desk.get_by_test_id("login-email").fill(admin)
    await desk.get_by_test_id("login-password").fill(PASSWORD)
    await desk.get_by_test_id("login-submit").click()
    await expect(desk.get_by_test_id("connection-status")).to_have_attribute(
        "data-state", "connected"
    )
    await desk.evaluate(f"location.hash = '#conversation-{conversation_id}'")
    await expect(desk.locator("#conversation-title")).not_to_have_text(
        re.compile("No conversation open|Loading")
    )
    await desk.get_by_test_id("reply-input").fill("Yes, all sizes.")
    await desk.get_by_test_id("reply-send").click()

    sent = (await smtp.next()).message
    line = desk.get_by_test_id("event-emailed")
    await expect(line).to_have_text(re.compile("Sent by email to jo@mail.example"))

    answer = EmailMessage()
    answer["From"] = "jo@mail.example"
    answer["To"] = sent["Reply-To"]
    answer["Message-ID"] = f"<{secrets.token_hex(8)}@mail.example>"
    answer["In-Reply-To"] = sent["Message-ID"]
    answer.set_content(
        "Great, thanks!\n\nOn Thu, Shop <help@shop.example> wrote:\n> Yes, all sizes."
    )
    posted = await http.post(
        f"/api/v1/email/inbound/{store.id}/{secret}",
        content=answer.as_bytes(),
        headers={"Content-Type": "message/rfc822"},
    )
    assert posted.status_code == 201, posted.text
    shopper = desk.locator('[data-testid="event-message"][data-author="visitor"]').last
    await expect(shopper.locator(".msg-text")).to_have_text("Great, thanks!")
    await expect(shopper.locator(".msg-via")).to_have_text("by email")
    await http.aclose()
    assert errors == []
