"""Canned and suggested replies in the console, and the shopper's rating in the widget,
each in a real browser against the demo store."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, Page, expect

from portside.services.demo import DEMO_AGENTS, DEMO_STORE_KEY
from tests.browser.test_chat_in_browser import open_shop
from tests.browser.test_console_cards_in_browser import open_console_as, open_conversation
from tests.support.server import LiveServer

AGENT = DEMO_AGENTS[1]
DHL = re.escape(
    "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1"
    "&tracking-id=JD014600003828"
)


async def shop_conversation(shop: Page) -> int:
    """The id of the conversation the shopper's widget is in (from what it stores)."""
    key = f"portside:{DEMO_STORE_KEY}:conversation"
    for _ in range(100):
        saved = await shop.evaluate(f"localStorage.getItem('{key}')")
        found = re.search(r'"id":(\d+)', saved or "")
        if found:
            return int(found.group(1))
        await asyncio.sleep(0.05)
    raise AssertionError("the widget never stored its conversation")


async def test_an_agent_sends_a_canned_reply_by_shortcut_and_the_shopper_rates(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, demo_server, errors)
    question = "Hi, where is my order LP10231?"
    await shop.get_by_test_id("input").fill(question)
    await shop.get_by_test_id("send").click()
    await expect(shop.get_by_test_id("message").filter(has_text=question)).to_have_attribute(
        "data-state", "sent"
    )
    conversation_id = await shop_conversation(shop)

    desk = await open_console_as(browser, demo_server, AGENT[0], errors)
    await open_conversation(desk, conversation_id)
    composer = desk.get_by_test_id("reply-input")
    canned = desk.get_by_test_id("canned-list")

    # "/hel": the greeting, whose {first_name} nobody knows yet.
    await composer.click()
    await composer.press_sequentially("/hel")
    item = canned.get_by_test_id("canned-item")
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-shortcut", "hello")
    await expect(item.get_by_test_id("canned-missing")).to_have_text("To fill in: {first_name}")
    await composer.press("Enter")
    await expect(canned).to_be_hidden()
    await expect(composer).to_have_value(
        "Hi {first_name}, thanks for writing to Lotus & Pine! I'm Carlos Ruiz; how can I help?"
    )
    gaps = desk.get_by_test_id("composer-gaps")
    await expect(gaps).to_have_text("Fill in before sending: {first_name}")
    await expect(desk.get_by_test_id("reply-send")).to_be_disabled()
    # The gap is selected: what the agent types fills it.
    await composer.press_sequentially("Emily")
    await expect(gaps).to_be_hidden()

    # Then "/track" on a new line: the tracking reply with the order the shopper named.
    await composer.press("Control+End")
    await composer.press("Shift+Enter")
    await composer.press_sequentially("/track")
    await expect(canned.get_by_test_id("canned-item")).to_have_attribute(
        "data-shortcut", "tracking"
    )
    await canned.get_by_test_id("canned-item").click()
    sent = re.compile(
        r"^Hi Emily, thanks for writing to Lotus & Pine! I'm Carlos Ruiz; how can I help\?\n"
        rf"Your order LP10231 is on its way\. You can follow it here: {DHL}$"
    )
    await expect(composer).to_have_value(sent)
    await desk.get_by_test_id("reply-send").click()
    await expect(composer).to_have_value("")

    answer = shop.get_by_test_id("message").filter(has_text="Your order LP10231 is on its way")
    await expect(answer).to_contain_text("Hi Emily")

    # The agent resolves; the shopper is asked, in English, and rates.
    await desk.get_by_test_id("action-resolve").click()
    card = shop.get_by_test_id("csat")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("How did we do?")
    await card.locator('[data-testid="csat-send"]').click()
    await expect(card.get_by_test_id("csat-error")).to_have_text("Choose a rating first")
    await card.locator('[data-testid="csat-star"][data-score="5"]').click()
    await expect(card.locator('[data-score="5"]')).to_have_attribute("aria-pressed", "true")
    await card.get_by_test_id("csat-comment").fill("Quick and kind <b>thanks</b>")
    await card.get_by_test_id("csat-send").click()
    await expect(card.get_by_test_id("csat-thanks")).to_have_text("Thank you for your feedback!")
    await expect(card).to_have_attribute("data-state", "rated")

    rating = desk.get_by_test_id("transcript").get_by_test_id("event-csat")
    await expect(rating).to_contain_text("The shopper rated the help 5/5")
    await expect(rating.get_by_test_id("csat-comment")).to_have_text("Quick and kind <b>thanks</b>")
    assert await desk.locator("#transcript b").count() == 0

    # After a reload the shopper still sees their thanks, not the question again.
    await shop.reload()
    await expect(shop.get_by_test_id("panel")).to_be_visible()  # it was left open
    await expect(shop.get_by_test_id("csat-thanks")).to_be_visible()
    await expect(shop.get_by_test_id("csat-star")).to_have_count(0)
    assert errors == []


async def test_a_suggested_reply_goes_into_the_composer_in_one_click(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, bot_demo_server, errors)
    await shop.get_by_test_id("input").fill("How many days do I have to return an item?")
    await shop.get_by_test_id("send").click()
    bot = shop.locator('[data-testid="message"][data-author="bot"]')
    await expect(bot).to_have_count(1, timeout=15_000)
    conversation_id = await shop_conversation(shop)

    desk = await open_console_as(browser, bot_demo_server, AGENT[0], errors)
    await open_conversation(desk, conversation_id)
    strip = desk.get_by_test_id("suggestions")
    suggestion = strip.get_by_test_id("suggestion").first
    await expect(suggestion).to_be_visible()
    text = await suggestion.get_attribute("title")
    assert text
    await suggestion.click()
    composer = desk.get_by_test_id("reply-input")
    await expect(composer).to_have_value(text)
    await composer.press("End")
    await composer.press_sequentially(" Anything else?")
    await desk.get_by_test_id("reply-send").click()
    mine = shop.locator('[data-testid="message"][data-author="agent"]')
    await expect(mine).to_contain_text(f"{text} Anything else?")
    assert errors == []
