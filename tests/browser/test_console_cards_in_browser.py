"""The console's knowledge editor, handoff context card and case cards, in a real browser."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, Page, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_STORE_KEY
from tests.browser.test_chat_in_browser import open_shop, watch_for_errors
from tests.support.clients import client_id, login, widget
from tests.support.factories import make_case, services_for
from tests.support.server import LiveServer

ADMIN, AGENT = DEMO_AGENTS[0][0], DEMO_AGENTS[1][0]
ENTRY = "shipping-rates-and-times"


async def open_console_as(
    browser: Browser, server: LiveServer, email: str, errors: list[str]
) -> Page:
    context = await browser.new_context(
        timezone_id="Asia/Shanghai", locale="en-GB", viewport={"width": 1400, "height": 950}
    )
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/console/")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("connection-status")).to_have_attribute(
        "data-state", "connected"
    )
    return page


async def open_conversation(page: Page, conversation_id: int) -> None:
    await page.evaluate(f"location.hash = '#conversation-{conversation_id}'")
    await expect(page.locator("#conversation-title")).not_to_have_text(
        re.compile("No conversation open|Loading")
    )


async def test_an_admin_edits_a_knowledge_entry_and_a_wrong_input_shows_its_error(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    # Whatever an entry says is text on the page, never markup.
    sneaky = {
        "intents": ["coupon_discount"],
        "title": {"en": "<img src=x onerror=alert(1)>Gift cards"},
        "text": {"en": "<script>alert(2)</script>Gift cards never expire."},
    }
    assert (await http.put("/api/v1/knowledge/gift-cards", json=sneaky)).status_code == 200
    desk = await open_console_as(browser, demo_server, ADMIN, errors)

    await desk.get_by_test_id("open-knowledge").click()
    editor = desk.get_by_test_id("knowledge-dialog")
    await expect(editor).to_be_visible()
    sneaky_row = editor.locator('[data-entry-id="gift-cards"]')
    await expect(sneaky_row).to_contain_text("<img src=x onerror=alert(1)>Gift cards")
    assert await editor.locator("img").count() == 0

    await editor.locator(f'[data-entry-id="{ENTRY}"]').click()
    await expect(editor.get_by_test_id("knowledge-id")).to_have_value(ENTRY)
    await expect(editor.get_by_test_id("knowledge-form")).not_to_contain_text("null")
    spanish = editor.locator('[data-testid="knowledge-language"][data-lang="es"]')
    await spanish.get_by_test_id("knowledge-title").fill("   ")
    await editor.get_by_test_id("knowledge-save").click()
    problem = spanish.locator('[data-error-for="title"]')
    await expect(problem).to_be_visible()
    await expect(problem).to_have_text("title['es'] must be non-empty text.")
    # Only that field complains.
    await expect(editor.locator(".field-error:visible")).to_have_count(1)

    # A language the server does not know: the complaint is next to its code.
    await editor.get_by_test_id("knowledge-add-language").click()
    added = editor.get_by_test_id("knowledge-language").last
    await added.get_by_test_id("knowledge-lang-code").fill("xq")
    await added.get_by_test_id("knowledge-title").fill("Titulo")
    await added.get_by_test_id("knowledge-text").fill("Texto")
    await spanish.get_by_test_id("knowledge-title").fill("Envíos")
    await editor.get_by_test_id("knowledge-save").click()
    await expect(added.locator('[data-error-for="code"]')).to_contain_text("'xq' is not a language")
    await expect(problem).to_be_hidden()

    await added.get_by_test_id("knowledge-remove-language").click()
    await editor.locator('[data-testid="knowledge-intent"][value="customs_duties"]').check()
    await editor.get_by_test_id("knowledge-save").click()
    await expect(editor.get_by_test_id("knowledge-status")).to_have_text("Saved.")

    entries = (await http.get("/api/v1/knowledge")).json()["entries"]
    saved = next(e for e in entries if e["id"] == ENTRY)
    assert saved["title"]["es"] == "Envíos"
    assert "xq" not in saved["title"]
    assert saved["intents"] == ["shipping_info", "customs_duties"]
    await http.aclose()
    # Chromium logs each refused request (the two 400s above); nothing else went wrong.
    refused = [e for e in errors if "status of 400 (Bad Request)" in e]
    assert len(refused) == 2
    assert [e for e in errors if e not in refused] == []


async def test_an_agent_who_is_not_an_admin_reads_the_knowledge(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    desk = await open_console_as(browser, demo_server, AGENT, errors)
    await desk.get_by_test_id("open-knowledge").click()
    editor = desk.get_by_test_id("knowledge-dialog")
    await editor.locator(f'[data-entry-id="{ENTRY}"]').click()
    await expect(editor.get_by_test_id("knowledge-readonly")).to_be_visible()
    await expect(editor.get_by_test_id("knowledge-save")).to_have_count(0)
    await expect(editor.get_by_test_id("knowledge-new")).to_be_hidden()
    await expect(editor.get_by_test_id("knowledge-title").first).not_to_be_editable()
    assert errors == []


async def test_a_handed_off_conversation_shows_the_context_card(
    browser: Browser, bot_demo_server: LiveServer
) -> None:
    errors: list[str] = []
    desk = await open_console_as(browser, bot_demo_server, AGENT, errors)
    shop = await open_shop(browser, bot_demo_server, errors)

    # Other tests' shoppers may be queued too: this one's conversation is the newest.
    newest = "f => fetch('/api/v1/conversations?filter=' + f).then(r => r.json())"
    seen = await desk.evaluate(f"({newest})('all')")
    before = max((c["id"] for c in seen["conversations"]), default=0)
    # A question the bot answers first: the card says what the shopper asked about.
    await shop.get_by_test_id("input").fill("can I machine wash the linen shirt?")
    await shop.get_by_test_id("send").click()
    bot = shop.locator('[data-testid="message"][data-author="bot"]')
    await expect(bot).to_have_count(1, timeout=15_000)
    await shop.get_by_test_id("input").fill("where is my order LP10231? I want to talk to a human")
    await shop.get_by_test_id("send").click()

    # The agent is online and speaks English: routing gives it to them at once.
    ours = None
    for _ in range(150):
        mine = await desk.evaluate(f"({newest})('mine')")
        ids = [c["id"] for c in mine["conversations"] if c["id"] > before]
        if ids:
            ours = max(ids)
            break
        await asyncio.sleep(0.1)
    assert ours is not None, "the shopper's conversation was never routed to the agent"
    await desk.get_by_test_id("filter-mine").click()
    row = desk.locator(f'[data-testid="conversation-row"][data-conversation-id="{ours}"]')
    await row.click()

    card = desk.get_by_test_id("handoff-card")
    await expect(card).to_be_visible(timeout=15_000)
    await expect(card.get_by_test_id("handoff-summary")).to_contain_text("The shopper")
    await expect(card.get_by_test_id("handoff-summary")).to_contain_text("asked for a person")
    # A demo order, named but not proven to be theirs.
    await expect(card.get_by_test_id("handoff-orders")).to_have_text(
        "LP10231: in transit, not verified"
    )
    await expect(card.get_by_test_id("handoff-language")).to_contain_text("English")
    # What the shopper asked about, in words: "order status", not "order_status".
    asked = card.get_by_test_id("handoff-intent")
    await expect(asked).to_have_text(re.compile(r"^[a-z]+( [a-z]+)*(, [a-z]+( [a-z]+)*)*$"))
    await expect(asked).to_contain_text(" ")
    await expect(card.get_by_test_id("handoff-country")).to_be_visible()
    # The shop is in New York: the shopper's own clock, not the agent's.
    await expect(card.get_by_test_id("handoff-local-time")).to_contain_text("behind you")
    link = card.get_by_test_id("handoff-page").locator("a")
    await expect(link).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/demo/"))
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    inline = desk.get_by_test_id("transcript").get_by_test_id("event-handoff")
    await expect(inline).to_have_count(1)
    # Never on the shopper's side.
    await expect(shop.get_by_text("Handoff context")).to_have_count(0)
    assert errors == []


async def test_an_agent_approves_a_case_and_a_colleague_sees_it_live(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    store_id = (await http.get("/api/v1/store")).json()["id"]
    async with widget(demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="me queda pequeña")
        conversation_id: int = (await shopper.expect("ack"))["conversation_id"]
    async with services_for(demo_server.database_url, demo_server.data_dir) as svc:
        case_id = await make_case(svc, store_id, conversation_id)

    mei = await open_console_as(browser, demo_server, ADMIN, errors)
    carlos = await open_console_as(browser, demo_server, AGENT, errors)
    for desk in (mei, carlos):
        await open_conversation(desk, conversation_id)
    card = mei.locator(f'[data-testid="case-card"][data-case-id="{case_id}"]')
    await expect(card.get_by_test_id("case-status")).to_have_text("Open")
    await expect(card.get_by_test_id("case-order")).to_have_text("LP-10023")
    await expect(card.get_by_test_id("case-items")).to_contain_text("Washed linen shirt (M, blue)")
    await expect(card.get_by_test_id("case-exchange-for")).to_have_text("size L")
    await expect(card.get_by_test_id("case-words")).to_contain_text("me queda pequeña")
    await expect(card.get_by_test_id("case-photos")).to_have_text("None")

    await card.get_by_test_id("case-note").fill("Send the L <b>today</b>")
    await card.get_by_test_id("case-approve").click()

    await expect(card.get_by_test_id("case-status")).to_have_text("Approved")
    await expect(card.get_by_test_id("case-approve")).to_have_count(0)
    await expect(card.get_by_test_id("case-close")).to_be_visible()
    note = f"Exchange #{case_id} approved: Send the L <b>today</b>"
    await expect(mei.get_by_test_id("event-note").filter(has_text=note)).to_be_visible()

    # The colleague's console hears of it without doing anything.
    theirs = carlos.locator(f'[data-testid="case-card"][data-case-id="{case_id}"]')
    await expect(theirs.get_by_test_id("case-status")).to_have_text("Approved")
    await expect(theirs.get_by_test_id("case-history")).to_contain_text("Approved by Mei Lin")
    await expect(carlos.get_by_test_id("event-note").filter(has_text=note)).to_be_visible()
    # A decision made elsewhere (here over the API) reaches the open cards as well.
    await http.patch(f"/api/v1/cases/{case_id}", json={"status": "closed"})
    await expect(theirs.get_by_test_id("case-status")).to_have_text("Closed")
    await http.aclose()
    assert errors == []
