"""The AI agent in the widget on the demo store, in a real browser."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.test_chat_in_browser import watch_for_errors
from tests.support.server import LiveServer

PRODUCT = "washed-linen-shirt"


async def open_spanish_shop(browser: Browser, server: LiveServer, errors: list[str]) -> Page:
    context = await browser.new_context(
        timezone_id="Europe/Madrid", locale="es-ES", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/demo/products/{PRODUCT}")
    await page.get_by_test_id("launcher").click()
    await expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    return page


async def test_a_spanish_shopper_asks_if_the_product_is_machine_washable(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_spanish_shop(browser, bot_demo_server, errors)

    await shop.get_by_test_id("input").fill("hola, ¿se puede lavar en lavadora?")
    await shop.get_by_test_id("send").click()

    answer = shop.locator('[data-testid="message"][data-author="bot"]')
    await expect(answer).to_have_count(1, timeout=15_000)
    # That product's care instructions, in Spanish.
    await expect(answer).to_contain_text("Camisa de lino lavado")
    await expect(answer).to_contain_text("40 °C")
    await expect(answer).to_contain_text("se puede lavar a máquina")
    assert errors == []


async def test_talk_to_a_person_button_puts_the_shopper_in_the_queue(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_spanish_shop(browser, bot_demo_server, errors)
    person = shop.get_by_test_id("person")
    await expect(person).to_have_text("Hablar con una persona")

    await person.click()

    await expect(person).to_be_hidden()
    await expect(shop.get_by_test_id("message").last).to_have_attribute("data-author", "system")
    assert errors == []
