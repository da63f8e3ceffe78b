"""An agent confirms or corrects what the AI agent understood, in the console."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.test_chat_in_browser import open_console, open_shop, watch_for_errors
from tests.support.server import LiveServer


async def test_an_agent_corrects_the_intent_of_a_shoppers_message(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, bot_demo_server, errors)
    question = "What is this shirt made of, exactly?"
    await shop.get_by_test_id("input").fill(question)
    await shop.get_by_test_id("send").click()
    await expect(shop.locator('[data-testid="message"][data-author="bot"]')).to_have_count(
        1, timeout=15_000
    )

    async with httpx.AsyncClient(base_url=bot_demo_server.base_url) as http:
        login = {"email": DEMO_AGENTS[1][0], "password": DEMO_PASSWORD}
        (await http.post("/api/v1/auth/login", json=login)).raise_for_status()
        newest = (await http.get("/api/v1/conversations")).json()["conversations"][0]

    desk = await open_console(browser, bot_demo_server, errors)
    # The inbox row shows the bot's answer, the last message: open it by its address.
    await desk.evaluate(f"location.hash = '#conversation-{newest['id']}'")
    message = desk.get_by_test_id("event-message").filter(has_text=question)
    label = message.get_by_test_id("intent-label")
    # What the AI agent understood, from its reply.
    await expect(label.get_by_test_id("intent-predicted")).to_contain_text("AI understood:")
    await label.get_by_test_id("intent-select").select_option("product_care")
    await label.get_by_test_id("intent-save").click()
    await expect(label.get_by_test_id("intent-status")).to_have_text("Labelled: product_care")

    # Saved: the store's examples have it, and the console shows it after a reload.
    async with httpx.AsyncClient(base_url=bot_demo_server.base_url) as http:
        login = {"email": DEMO_AGENTS[1][0], "password": DEMO_PASSWORD}
        (await http.post("/api/v1/auth/login", json=login)).raise_for_status()
        examples = (await http.get("/api/v1/intents/examples")).json()["examples"]
    assert [(e["text"], e["intent"], e["source"]) for e in examples] == [
        (question, "product_care", "agent")
    ]
    await desk.reload()
    label = (
        desk.get_by_test_id("event-message")
        .filter(has_text=question)
        .get_by_test_id("intent-label")
    )
    await expect(label.get_by_test_id("intent-status")).to_have_text("Labelled: product_care")
    await expect(label.get_by_test_id("intent-select")).to_have_value("product_care")
    assert errors == []


async def test_an_admin_adds_a_store_intent_in_the_intents_view(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    context = await browser.new_context()
    desk = await context.new_page()
    watch_for_errors(desk, errors)
    await desk.goto(f"{demo_server.base_url}/console/")
    await desk.get_by_test_id("login-email").fill(DEMO_AGENTS[0][0])  # an admin
    await desk.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await desk.get_by_test_id("login-submit").click()

    await desk.get_by_test_id("open-intents").click()
    view = desk.get_by_test_id("intents-dialog")
    await expect(view.get_by_test_id("model-status")).to_contain_text("the default model")
    await view.get_by_test_id("intent-name").fill("gift_wrapping")
    await view.get_by_test_id("intent-description").fill("Wrapped <b>as a present</b>")
    await view.get_by_test_id("intent-add").click()

    row = view.get_by_test_id("intent-row")
    await expect(row).to_have_attribute("data-name", "gift_wrapping")
    # Shown as typed: text, never markup.
    await expect(row).to_contain_text("Wrapped <b>as a present</b>")
    await expect(row).to_contain_text("0 examples")
    assert errors == []
