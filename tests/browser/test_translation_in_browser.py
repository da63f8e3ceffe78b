"""A Chinese-speaking agent answers a German shopper through the store's LLM (the fake
endpoint), each in a real browser: the agent reads the shopper in Chinese, the shopper
reads the agent in German, and each can see the other's original."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.conftest import _demo_server
from tests.browser.test_chat_in_browser import watch_for_errors
from tests.support.clients import login
from tests.support.fake_llm import FakeLlm
from tests.support.server import LiveServer

MEI = DEMO_AGENTS[0][0]  # the demo's admin; she speaks Chinese and English
QUESTION_DE = "Hallo! Ist das Hemd aus Seide?"
QUESTION_ZH = "你好！这件衬衫是丝绸的吗？"
ANSWER_ZH = "是的，这件衬衫是 100% 真丝的。"
ANSWER_DE = "Ja, das Hemd ist aus 100 % Seide."


@pytest.fixture(scope="module")
def translating_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A demo store of its own: its translation settings reach no other test."""
    live = _demo_server(tmp_path_factory, "off")
    yield live
    live.stop()


async def translate_with(server: LiveServer, fake: FakeLlm) -> None:
    admin = await login(server.base_url, MEI, DEMO_PASSWORD)
    try:
        llm = {"enabled": True, "base_url": fake.base_url, "model": "tiny-chat"}
        assert (await admin.put("/api/v1/settings/llm", json=llm)).status_code == 200
        body = {"provider": "llm"}
        assert (await admin.put("/api/v1/settings/translation", json=body)).status_code == 200
    finally:
        await admin.aclose()


async def test_a_chinese_agent_answers_a_german_shopper_who_reads_german(
    browser: Browser, translating_server: LiveServer, fake: FakeLlm
) -> None:
    server = translating_server
    await translate_with(server, fake)
    errors: list[str] = []

    shop_context = await browser.new_context(
        locale="de-DE", timezone_id="Europe/Berlin", viewport={"width": 1280, "height": 900}
    )
    shop = await shop_context.new_page()
    watch_for_errors(shop, errors)
    await shop.goto(f"{server.base_url}/demo/products/silk-camp-collar-shirt")
    await shop.get_by_test_id("launcher").click()
    await expect(shop.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    await shop.get_by_test_id("input").fill(QUESTION_DE)
    await shop.get_by_test_id("send").click()
    await expect(shop.get_by_test_id("message").filter(has_text=QUESTION_DE)).to_have_attribute(
        "data-state", "sent"
    )

    # Opening the conversation translates the shopper's message for Mei.
    fake.answer = QUESTION_ZH
    desk_context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    desk = await desk_context.new_page()
    watch_for_errors(desk, errors)
    await desk.goto(f"{server.base_url}/console/")
    await desk.get_by_test_id("login-email").fill(MEI)
    await desk.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await desk.get_by_test_id("login-submit").click()
    await expect(desk.get_by_test_id("connection-status")).to_have_attribute(
        "data-state", "connected"
    )
    await desk.get_by_test_id("conversation-row").filter(has_text=QUESTION_DE).click()
    transcript = desk.get_by_test_id("transcript")
    question = transcript.locator("[data-testid='event-message'][data-author='visitor']")
    await expect(question.locator(".msg-text")).to_have_text(QUESTION_ZH)
    await expect(question.get_by_test_id("translation")).to_contain_text("German")
    await question.get_by_test_id("show-original").click()
    await expect(question.locator(".msg-text")).to_have_text(QUESTION_DE)
    await question.get_by_test_id("show-original").click()
    await expect(question.locator(".msg-text")).to_have_text(QUESTION_ZH)

    # The shopper speaks German, Mei does not: the switch is on, and her reply is
    # translated before it is sent.
    toggle = desk.get_by_test_id("translate-toggle")
    await expect(toggle).to_be_checked()
    await expect(desk.locator("#translate-label")).to_have_text("Translate to German")
    await expect(desk.get_by_test_id("translation-note")).to_be_hidden()
    fake.answer = ANSWER_DE
    await desk.get_by_test_id("reply-input").fill(ANSWER_ZH)
    await desk.get_by_test_id("reply-send").click()

    mine = transcript.get_by_test_id("event-message").filter(has_text=ANSWER_DE)
    await expect(mine.get_by_test_id("msg-original")).to_contain_text(ANSWER_ZH)
    await expect(mine.get_by_test_id("msg-original")).to_contain_text("Sent in German")

    reply = shop.get_by_test_id("message").filter(has=shop.get_by_test_id("see-original"))
    await expect(reply).to_contain_text(ANSWER_DE)
    await expect(reply).to_have_attribute("data-author", "agent")
    await expect(reply.get_by_test_id("see-original")).to_have_text("Original anzeigen")
    await expect(shop.get_by_text(ANSWER_ZH)).to_have_count(0)
    await reply.get_by_test_id("see-original").click()
    await expect(reply).to_contain_text(ANSWER_ZH)
    await expect(reply.get_by_test_id("see-original")).to_have_text("Übersetzung anzeigen")

    # What reached the LLM: the shopper's message, then Mei's reply, each once.
    contents = [request["messages"][1]["content"] for request in fake.requests]
    assert contents == [QUESTION_DE, ANSWER_ZH]
    assert errors == []
    await shop_context.close()
    await desk_context.close()


async def test_without_a_translator_the_console_says_so(
    browser: Browser, translating_server: LiveServer
) -> None:
    server = translating_server
    admin = await login(server.base_url, MEI, DEMO_PASSWORD)
    await admin.put("/api/v1/settings/translation", json={"provider": "off"})
    await admin.aclose()
    errors: list[str] = []
    shop_context = await browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
    shop = await shop_context.new_page()
    watch_for_errors(shop, errors)
    await shop.goto(f"{server.base_url}/demo/products/silk-camp-collar-shirt")
    await shop.get_by_test_id("launcher").click()
    await shop.get_by_test_id("input").fill("Guten Tag, noch eine Frage")
    await shop.get_by_test_id("send").click()

    desk_context = await browser.new_context(locale="zh-CN")
    desk = await desk_context.new_page()
    watch_for_errors(desk, errors)
    await desk.goto(f"{server.base_url}/console/")
    await desk.get_by_test_id("login-email").fill(MEI)
    await desk.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await desk.get_by_test_id("login-submit").click()
    await desk.get_by_test_id("conversation-row").filter(has_text="noch eine Frage").click()
    note = desk.get_by_test_id("translation-note")
    await expect(note).to_contain_text("Chinese (zh) to German (de)")
    await expect(note).to_contain_text("no translator is set up")
    await expect(note).to_contain_text("go out as you write them")
    await expect(desk.get_by_test_id("translate-toggle")).not_to_be_checked()
    await expect(desk.get_by_test_id("translate-toggle")).to_be_disabled()
    assert errors == []
    await shop_context.close()
    await desk_context.close()
