"""An admin deletes a conversation from the console, in a real browser: asked first,
then gone from every console and from the shopper's chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, Page, Request, expect

from portside.services.demo import DEMO_AGENTS
from tests.browser.test_chat_in_browser import conversation_of, open_shop
from tests.browser.test_console_cards_in_browser import open_console_as, open_conversation
from tests.support.server import LiveServer

ADMIN, AGENT = DEMO_AGENTS[0][0], DEMO_AGENTS[1][0]
QUIET_S = 1.0  # longer than any of the console's debounces


@asynccontextmanager
async def settled(page: Page, prefix: str) -> AsyncIterator[None]:
    """On leaving, the page's requests under `prefix` are all answered and none started
    for QUIET_S (a debounced one would have)."""
    pending: set[Request] = set()
    last = time.monotonic()

    def started(request: Request) -> None:
        nonlocal last
        if prefix in request.url:
            pending.add(request)
            last = time.monotonic()

    def ended(request: Request) -> None:
        nonlocal last
        if request in pending:
            pending.discard(request)
            last = time.monotonic()

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    yield
    deadline = time.monotonic() + 10
    while pending or time.monotonic() - last < QUIET_S:
        assert time.monotonic() < deadline, f"requests still in flight: {pending}"
        await asyncio.sleep(0.05)
    page.remove_listener("request", started)
    page.remove_listener("requestfinished", ended)
    page.remove_listener("requestfailed", ended)


async def test_an_admin_deletes_a_conversation_after_saying_yes(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, demo_server, errors)
    said = "Please delete everything I wrote here"
    await shop.get_by_test_id("input").fill(said)
    await shop.get_by_test_id("send").click()
    mine = shop.get_by_test_id("message").filter(has_text=said)
    await expect(mine).to_have_attribute("data-state", "sent")
    conversation_id = await conversation_of(shop)

    desk = await open_console_as(browser, demo_server, ADMIN, errors)
    colleague = await open_console_as(browser, demo_server, AGENT, errors)
    for page in (desk, colleague):
        # Opening it asks for the conversation, its suggested replies and (once its log
        # is shown) what its messages were understood as. A request still in flight at
        # the deletion would rightly get a 404, which the browser logs as an error.
        async with settled(page, f"/api/v1/conversations/{conversation_id}"):
            await open_conversation(page, conversation_id)
    # Only admins have the button.
    await expect(colleague.get_by_test_id("action-delete")).to_be_hidden()
    delete = desk.get_by_test_id("action-delete")
    await expect(delete).to_be_visible()

    # Asked first; Cancel leaves it be.
    await delete.click()
    dialog = desk.get_by_test_id("delete-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_test_id("delete-what")).to_contain_text("cannot be undone")
    await dialog.get_by_test_id("delete-cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(desk.locator("#conversation-meta")).to_contain_text(f"#{conversation_id}")

    await delete.click()
    await dialog.get_by_test_id("delete-confirm").click()
    await expect(dialog).to_be_hidden()
    row = f'[data-testid="conversation-row"][data-conversation-id="{conversation_id}"]'
    for page in (desk, colleague):
        await expect(page.locator(row)).to_have_count(0)
        await expect(page.locator("#conversation-title")).to_have_text("No conversation open")
        await expect(page.get_by_test_id("toast")).to_have_text(
            f"Conversation #{conversation_id} was deleted."
        )
    await expect(desk.get_by_test_id("action-delete")).to_be_hidden()
    # The shopper's chat lost it too, and keeps nothing of it after a reload.
    await expect(mine).to_have_count(0)
    await shop.reload()
    await shop.get_by_test_id("launcher").click()
    await expect(shop.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    await expect(shop.get_by_test_id("message").filter(has_text=said)).to_have_count(0)
    assert errors == []
