"""A German shopper asks the AI agent for a person: the German-speaking agent gets the
conversation with its context packet, and a Chinese-speaking colleague with translation
on answers too, each in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.conftest import _demo_server
from tests.browser.test_chat_in_browser import watch_for_errors
from tests.browser.test_console_cards_in_browser import open_console_as
from tests.support.clients import login
from tests.support.fake_llm import FakeLlm
from tests.support.server import LiveServer

MEI = DEMO_AGENTS[0][0]  # admin; speaks Chinese and English
LENA = DEMO_AGENTS[3][0]  # supervisor; speaks German, French and English
ASK = "Hallo, ich möchte bitte mit einem Menschen sprechen, meine Bestellung LP10231"
ANSWER_ZH = "您好，我们会在今天寄出替换件。"
ANSWER_DE = "Hallo, wir schicken den Ersatz noch heute."


@pytest.fixture(scope="module")
def routing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo store with the AI agent, of its own: its settings reach no other test."""
    live = _demo_server(tmp_path_factory, "embedded")
    yield live
    live.stop()


def translate_for_mei(text: str) -> str:
    """What the store's LLM makes of what it is given: Mei's reply in German; the German
    she opens (the shopper's and the AI agent's, translated whenever her console gets to
    them) in Chinese that keeps every number, order id and link, as a real translation
    must, or it is refused."""
    if text == ANSWER_ZH:
        return ANSWER_DE
    german = text
    kept = re.findall(r"https?://\S+|[A-Z]*\d+(?:[.,:/]\d+)*", german)
    return "顾客或助手说的话（译文）：" + "，".join(kept) + "。这是中文翻译。"


async def console_of(browser: Browser, server: LiveServer, email: str, errors: list[str]) -> Page:
    page = await open_console_as(browser, server, email, errors)
    await expect(page.get_by_test_id("presence")).to_have_value("online")
    return page


async def test_a_german_shopper_reaches_the_german_agent_and_a_chinese_agent_answers_too(
    browser: Browser, routing_server: LiveServer, fake: FakeLlm
) -> None:
    server = routing_server
    errors: list[str] = []
    admin = await login(server.base_url, MEI, DEMO_PASSWORD)
    sla = {"first_response_s": 300, "warn_before_s": 60}
    assert (await admin.put("/api/v1/settings/sla", json=sla)).status_code == 200
    lena = await console_of(browser, server, LENA, errors)
    mei = await console_of(browser, server, MEI, errors)

    shop_context = await browser.new_context(
        locale="de-DE", timezone_id="Europe/Berlin", viewport={"width": 1280, "height": 900}
    )
    shop = await shop_context.new_page()
    watch_for_errors(shop, errors)
    await shop.goto(f"{server.base_url}/demo/products/washed-linen-shirt")
    await shop.get_by_test_id("launcher").click()
    await expect(shop.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    await shop.get_by_test_id("input").fill(ASK)
    await shop.get_by_test_id("send").click()

    # Routing gives it to Lena at once: she is online and speaks German.
    await expect(shop.get_by_text("Lena Vogel ist dem Gespräch beigetreten")).to_be_visible(
        timeout=15_000
    )
    await lena.get_by_test_id("filter-mine").click()
    row = lena.get_by_test_id("conversation-row").filter(has_text="Lena Vogel")
    await expect(row).to_have_count(1)
    # The first-response clock runs from the handoff, counting down.
    await expect(row.get_by_test_id("row-sla")).to_contain_text("First reply in 4:")
    await expect(row.get_by_test_id("row-sla")).to_have_attribute("data-state", "ok")
    await row.click()
    card = lena.get_by_test_id("handoff-card")
    await expect(card).to_be_visible(timeout=10_000)
    await expect(card.get_by_test_id("handoff-language")).to_contain_text("German")
    await expect(card.get_by_test_id("handoff-summary")).to_contain_text("asked for a person")
    await expect(card.get_by_test_id("handoff-orders")).to_contain_text("LP10231")
    # Mei hears of it only in her inbox: it is not hers.
    await mei.get_by_test_id("filter-all").click()
    mei_row = mei.get_by_test_id("conversation-row").filter(has_text="Lena Vogel")
    await expect(mei_row).to_have_count(1)

    # The store translates through its LLM; Mei, who reads no German, answers too.
    llm = {"enabled": True, "base_url": fake.base_url, "model": "tiny-chat"}
    assert (await admin.put("/api/v1/settings/llm", json=llm)).status_code == 200
    translation = {"provider": "llm"}
    assert (await admin.put("/api/v1/settings/translation", json=translation)).status_code == 200
    await admin.aclose()
    fake.respond = translate_for_mei
    await mei_row.click()
    toggle = mei.get_by_test_id("translate-toggle")
    await expect(toggle).to_be_checked()
    await expect(mei.locator("#translate-label")).to_have_text("Translate to German")
    await mei.get_by_test_id("reply-input").fill(ANSWER_ZH)
    await mei.get_by_test_id("reply-send").click()

    reply = shop.get_by_test_id("message").filter(has_text=ANSWER_DE)
    await expect(reply).to_have_attribute("data-author", "agent")
    await expect(shop.get_by_text(ANSWER_ZH)).to_have_count(0)
    # Lena sees Mei's reply in German, with the original one click away.
    sent = (
        lena.get_by_test_id("transcript").get_by_test_id("event-message").filter(has_text=ANSWER_DE)
    )
    await expect(sent.get_by_test_id("msg-original")).to_contain_text(ANSWER_ZH)
    # A person answered: the first-response clock stopped.
    await expect(row.get_by_test_id("row-sla")).to_be_hidden()
    assert errors == []
    await shop_context.close()
