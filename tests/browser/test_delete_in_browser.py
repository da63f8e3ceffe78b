"""An admin deletes a conversation from the console, in a real browser: asked first,
then gone from every console and from the shopper's chat."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from portside.services.demo import DEMO_AGENTS, DEMO_STORE_KEY
from tests.browser.test_chat_in_browser import open_shop
from tests.browser.test_console_cards_in_browser import open_console_as, open_conversation
from tests.support.server import LiveServer

ADMIN, AGENT = DEMO_AGENTS[0][0], DEMO_AGENTS[1][0]


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
    saved = await shop.wait_for_function(
        "key => JSON.parse(localStorage.getItem(`portside:${key}:conversation`))",
        arg=DEMO_STORE_KEY,
    )
    conversation_id = (await saved.json_value())["id"]

    desk = await open_console_as(browser, demo_server, ADMIN, errors)
    colleague = await open_console_as(browser, demo_server, AGENT, errors)
    suggestions = f"/api/v1/conversations/{conversation_id}/suggestions"
    for page in (desk, colleague):
        # Opening it asks for suggested replies: answered before the deletion, or the
        # request in flight would (rightly) get a 404, which the browser logs as an error.
        async with page.expect_response(lambda r: r.url.endswith(suggestions)):
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
