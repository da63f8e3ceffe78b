"""A return with photo evidence, end to end in real browsers (issue 6): a shopper on the
demo store returns a demo order with the AI agent and sends a photo during the flow; the
agent's console shows the return as one case card with the order, the item, the reason,
the photo and the shopper's words, and the photo opens full size. And the other way: a
photo captioned "it arrived like this", in Spanish, starts the return and asks which order.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, FilePayload, Locator, Page, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_STORE_KEY
from tests.browser.test_chat_in_browser import conversation_of, open_shop, watch_for_errors
from tests.browser.test_console_attachments_in_browser import loaded
from tests.browser.test_console_cards_in_browser import open_console_as, open_conversation
from tests.support import media_files
from tests.support.clients import client_id, login, widget
from tests.support.factories import make_case, services_for
from tests.support.server import LiveServer

ADMIN = DEMO_AGENTS[0][0]
# The demo's delivered order (services/demo.py): one Washed Linen Shirt, M, Sand, to Tokyo.
ORDER, POSTCODE = "LP10233", "150-0001"
BOT = '[data-testid="message"][data-author="bot"]'


async def say(shop: Page, text: str, answers: int) -> Locator:
    """Send `text` in the widget; the bot's answer, once it has given `answers` in all."""
    await shop.get_by_test_id("input").fill(text)
    await shop.get_by_test_id("send").click()
    return await answered(shop, answers)


async def send_photo(
    shop: Page, photo: bytes, name: str, answers: int, caption: str = ""
) -> Locator:
    """Attach a photo with the widget's picker and send it (with `caption`, if any)."""
    if caption:
        await shop.get_by_test_id("input").fill(caption)
    async with shop.expect_file_chooser() as chooser:
        await shop.get_by_test_id("attach").click()
    payload = FilePayload(name=name, mimeType="image/png", buffer=photo)
    await (await chooser.value).set_files(files=payload)
    await expect(shop.get_by_test_id("uploads")).to_contain_text(name)
    await shop.get_by_test_id("send").click()
    return await answered(shop, answers)


async def answered(shop: Page, answers: int) -> Locator:
    bot = shop.locator(BOT)
    await expect(bot).to_have_count(answers, timeout=20_000)
    return bot.last


async def open_spanish_shop(browser: Browser, server: LiveServer, errors: list[str]) -> Page:
    context = await browser.new_context(
        timezone_id="Europe/Madrid", locale="es-ES", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/demo/products/washed-linen-shirt")
    await page.get_by_test_id("launcher").click()
    await expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    return page


async def test_a_return_with_a_photo_reaches_the_agent_as_one_case(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, bot_demo_server, errors)
    shop.set_default_timeout(15_000)

    asked = await say(shop, f"Hi, I want to return my order {ORDER}", 1)
    await expect(asked).to_contain_text("email address or the postcode")
    asked = await say(shop, POSTCODE, 2)
    await expect(asked).to_contain_text("reason for returning the Washed Linen Shirt")
    # The photo, with no words: kept for the return, and the question still stands.
    kept = await send_photo(shop, media_files.png(600, 400), "seam.png", 3)
    await expect(kept).to_contain_text("Thanks, I've added the photo to your return request.")
    mine = shop.locator('[data-testid="message"][data-author="visitor"]').last
    await expect(mine.get_by_test_id("attachment-image")).to_be_visible()
    words = "The seam at the shoulder is torn, it came like that"
    asked = await say(shop, words, 4)
    await expect(asked).to_contain_text("refund, or an exchange")
    opened = await say(shop, "A refund please", 5)
    await expect(opened).to_contain_text("I've opened return request #")
    await expect(opened).to_contain_text(f"from order {ORDER} (refund)")
    # The shopper has sent a photo: the bot does not ask for one.
    await expect(opened).not_to_contain_text("send a photo")
    case_id = int(re.findall(r"#(\d+)", await opened.inner_text())[0])
    conversation_id = await conversation_of(shop)

    desk = await open_console_as(browser, bot_demo_server, ADMIN, errors)
    await open_conversation(desk, conversation_id)
    cards = desk.get_by_test_id("case-card")
    await expect(cards).to_have_count(1)
    card = desk.locator(f'[data-testid="case-card"][data-case-id="{case_id}"]')
    await expect(card.get_by_test_id("case-status")).to_have_text("Open")
    await expect(card.get_by_test_id("case-order")).to_have_text(ORDER)
    await expect(card.get_by_test_id("case-items")).to_contain_text(
        "Washed Linen Shirt (M, Sand) × 1"
    )
    await expect(card.get_by_test_id("case-reason")).to_have_text("Arrived damaged")
    await expect(card.get_by_test_id("case-resolution")).to_have_text("refund")
    await expect(card.get_by_test_id("case-words")).to_contain_text(words)
    await expect(card.get_by_test_id("case-photo")).to_have_count(1)
    # The 320 px thumbnail, loaded from a signed URL once the agent scrolls to it.
    await card.get_by_test_id("case-photo").scroll_into_view_if_needed()
    assert await loaded(desk, '[data-testid="case-photo"]') == 320
    # A click opens the full photo, 600 px wide, in a new tab.
    async with desk.context.expect_page() as opened_tab:
        await card.get_by_test_id("case-photo").click()
    full = await opened_tab.value
    await full.wait_for_url(re.compile(r"/files/\d+/full/"))
    width = await full.evaluate("() => document.images[0]?.naturalWidth")
    assert width == 600
    await full.close()
    # The handoff context names the case too.
    await expect(desk.get_by_test_id("handoff-card")).to_be_visible()
    assert errors == []


async def test_a_photo_saying_it_arrived_like_this_in_spanish_asks_which_order(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_spanish_shop(browser, bot_demo_server, errors)
    shop.set_default_timeout(15_000)

    asked = await send_photo(shop, media_files.png(400, 300), "camisa.png", 1, "llegó así")
    await expect(asked).to_contain_text("¿Cuál es tu número de pedido?")
    asked = await say(shop, ORDER, 2)
    await expect(asked).to_contain_text("el correo electrónico o el código postal")
    asked = await say(shop, POSTCODE, 3)
    await expect(asked).to_contain_text("¿Por qué quieres devolver")
    await say(shop, "está rota por la costura", 4)
    opened = await say(shop, "quiero el reembolso", 5)
    await expect(opened).to_contain_text("He abierto la solicitud de devolución #")
    case_id = int(re.findall(r"#(\d+)", await opened.inner_text())[0])
    conversation_id = await conversation_of(shop)

    # The photo that started it all is the case's evidence.
    desk = await open_console_as(browser, bot_demo_server, ADMIN, errors)
    await open_conversation(desk, conversation_id)
    card = desk.locator(f'[data-testid="case-card"][data-case-id="{case_id}"]')
    await expect(card.get_by_test_id("case-reason")).to_have_text("Arrived damaged")
    await expect(card.get_by_test_id("case-photo")).to_have_count(1)
    await expect(card.get_by_test_id("case-words")).to_contain_text("está rota por la costura")
    await expect(card.get_by_test_id("case-words")).to_contain_text("Spanish")
    message = desk.get_by_test_id("event-message").filter(has_text="llegó así")
    await expect(message.get_by_test_id("attachment-image")).to_be_visible()
    assert errors == []


async def test_a_reason_read_off_the_photo_says_so_on_the_card(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    store_id = (await http.get("/api/v1/store")).json()["id"]
    await http.aclose()
    async with widget(demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="mira")
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
    async with services_for(demo_server.database_url, demo_server.data_dir) as svc:
        case_id = await make_case(
            svc,
            store_id,
            conversation_id,
            kind="return",
            data={"order": ORDER, "reason": "wrong_item", "reason_by": "photo", "photos": []},
        )
    desk = await open_console_as(browser, demo_server, ADMIN, errors)
    await open_conversation(desk, conversation_id)
    card = desk.locator(f'[data-testid="case-card"][data-case-id="{case_id}"]')
    await expect(card.get_by_test_id("case-reason")).to_have_text(
        "Wrong item sent (seen in the photo)"
    )
    assert errors == []
