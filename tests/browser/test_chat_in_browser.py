"""A shopper on the demo store and an agent in the console, each in a real browser."""

from __future__ import annotations

import base64
import re

from playwright.async_api import Browser, ConsoleMessage, Page, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_STORE_KEY
from tests.support.server import LiveServer

PRODUCT = "silk-camp-collar-shirt"


def watch_for_errors(page: Page, errors: list[str]) -> None:
    """Collect JavaScript errors and CSP violations: any one of them fails the test."""
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            # Where it came from: a failed request's message does not name its URL.
            errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)


async def conversation_of(shop: Page) -> int:
    """The demo shopper's conversation, as the widget saved it once it had one."""
    saved = await (
        await shop.wait_for_function(
            "key => JSON.parse(localStorage.getItem(`portside:${key}:conversation`))",
            arg=DEMO_STORE_KEY,
        )
    ).json_value()
    return int(saved["id"])


async def drop_file(page: Page, data: bytes, name: str, mime: str) -> None:
    """Drop a file on the widget's panel, as a shopper dragging it from their desktop."""
    dropped = await page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, { type: mime }));
            return data;
        }""",
        [base64.b64encode(data).decode(), name, mime],
    )
    await page.get_by_test_id("panel").dispatch_event("drop", {"dataTransfer": dropped})


async def open_console(browser: Browser, server: LiveServer, errors: list[str]) -> Page:
    context = await browser.new_context(timezone_id="Asia/Shanghai", locale="zh-CN")
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/console/")
    await page.get_by_test_id("login-email").fill(DEMO_AGENTS[1][0])
    await page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("inbox")).to_be_visible()
    await expect(page.get_by_test_id("connection-status")).to_have_attribute(
        "data-state", "connected"
    )
    return page


async def open_shop(browser: Browser, server: LiveServer, errors: list[str]) -> Page:
    context = await browser.new_context(
        timezone_id="America/New_York", locale="en-US", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/demo/products/{PRODUCT}")
    await page.get_by_test_id("launcher").click()
    await expect(page.get_by_test_id("panel")).to_be_visible()
    await expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    return page


async def test_shopper_and_agent_see_each_other_live(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    desk = await open_console(browser, demo_server, errors)
    shop = await open_shop(browser, demo_server, errors)

    question = "Can I machine-wash this shirt?"
    await shop.get_by_test_id("input").fill(question)
    await shop.get_by_test_id("send").click()
    mine = shop.get_by_test_id("message").filter(has_text=question)
    await expect(mine).to_have_attribute("data-state", "sent")

    row = desk.get_by_test_id("conversation-row").filter(has_text=question)
    await expect(row).to_be_visible()
    await row.click()
    transcript = desk.get_by_test_id("transcript")
    await expect(
        transcript.get_by_test_id("event-message").filter(has_text=question)
    ).to_be_visible()
    panel = desk.get_by_test_id("context-panel")
    await expect(panel).to_contain_text(PRODUCT)
    # The shopper is in New York: the console shows their local time, not the agent's.
    await expect(desk.get_by_test_id("context-local-time")).to_have_text(re.compile(r"\d"))

    await desk.get_by_test_id("mode-note").click()
    await desk.get_by_test_id("reply-input").fill("Silk: hand wash only, tell them gently")
    await desk.get_by_test_id("reply-send").click()
    await expect(transcript.get_by_test_id("event-note")).to_be_visible()
    await desk.get_by_test_id("mode-note").click()

    answer = "Hand wash cold, please: it is silk."
    await desk.get_by_test_id("reply-input").fill(answer)
    await desk.get_by_test_id("reply-send").click()
    reply = shop.get_by_test_id("message").filter(has_text=answer)
    await expect(reply).to_be_visible()
    await expect(reply).to_have_attribute("data-author", "agent")
    # The internal note never reaches the shopper's page.
    await expect(shop.get_by_text("tell them gently")).to_have_count(0)

    # The conversation is the agent's now: the shopper's next message arrives live.
    await shop.get_by_test_id("input").fill("Thanks! And the blue one?")
    await shop.get_by_test_id("send").click()
    await expect(
        transcript.get_by_test_id("event-message").filter(has_text="And the blue one?")
    ).to_be_visible()
    await expect(
        desk.get_by_test_id("conversation-row").filter(has_text="And the blue one?")
    ).to_be_visible()
    assert errors == []


async def test_widget_keeps_the_conversation_across_a_reload(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, demo_server, errors)
    await shop.get_by_test_id("input").fill("Do you ship to Ohio?")
    await shop.get_by_test_id("send").click()
    await expect(
        shop.get_by_test_id("message").filter(has_text="Do you ship to Ohio?")
    ).to_have_attribute("data-state", "sent")

    await shop.reload()
    # The widget remembers that its panel was open.
    await expect(shop.get_by_test_id("panel")).to_be_visible()
    await expect(shop.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    await expect(
        shop.get_by_test_id("message").filter(has_text="Do you ship to Ohio?")
    ).to_have_count(1)
    await shop.get_by_test_id("input").fill("And to Madrid?")
    await shop.get_by_test_id("send").click()
    await expect(
        shop.get_by_test_id("message").filter(has_text="And to Madrid?")
    ).to_have_attribute("data-state", "sent")
    await expect(shop.get_by_test_id("message")).to_have_count(2)
    assert errors == []
