"""A shopper's voice note, transcribed, shows its words under the player in the widget
when the store shows transcripts to shoppers: in a real browser, the voice note spoken
by espeak-ng and dropped on the chat, the store's speech provider a small test server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.test_chat_in_browser import drop_file, open_shop
from tests.support.clients import login
from tests.support.fake_media_ai import FakeMediaAi, fake_media_ai
from tests.support.server import LiveServer
from tests.support.voice import spoken_wav

ADMIN = DEMO_AGENTS[0][0]


@pytest.fixture
async def speech(bot_demo_server: LiveServer) -> AsyncIterator[FakeMediaAi]:
    """The demo store transcribing with a test server, transcripts shown to shoppers;
    turned off again after the test."""
    async with fake_media_ai() as fake:
        http = await login(bot_demo_server.base_url, ADMIN, DEMO_PASSWORD)
        settings = {
            "enabled": True,
            "base_url": fake.base_url,
            "model": "m-1",
            "timeout_ms": 10000,
            "show_transcript_to_shopper": True,
        }
        try:
            answer = await http.put("/api/v1/settings/speech", json=settings)
            assert answer.status_code == 200, answer.text
            yield fake
        finally:
            await http.put(
                "/api/v1/settings/speech",
                json={"enabled": False, "show_transcript_to_shopper": False},
            )
            await http.aclose()


async def test_the_shopper_reads_their_voice_note_under_its_player(
    browser: Browser, bot_demo_server: LiveServer, speech: FakeMediaAi
) -> None:
    said = "can I machine wash this shirt"
    speech.transcript, speech.language = said, "english"
    errors: list[str] = []
    shop = await open_shop(browser, bot_demo_server, errors)
    shop.set_default_timeout(20000)

    # The shopper drops a recording on the chat: it uploads, and Send sends it.
    await drop_file(shop, spoken_wav(said), "note.wav", "audio/wav")
    await expect(shop.get_by_test_id("uploads")).to_contain_text("note.wav")
    await shop.get_by_test_id("send").click()

    mine = shop.get_by_test_id("message").filter(has=shop.get_by_test_id("attachment-voice"))
    await expect(mine).to_have_attribute("data-state", "sent")
    # The words appear under the player once the speech provider has heard them.
    words = mine.get_by_test_id("attachment-transcript")
    await expect(words).to_have_text(said)
    assert await words.evaluate(
        "p => p.previousElementSibling && p.previousElementSibling.tagName === 'AUDIO'"
    )
    # The bot answered what was said.
    await expect(shop.locator('[data-testid="message"][data-author="bot"]').last).to_be_visible()
    assert speech.transcriptions, "the provider was never asked"

    # Kept with the voice note: still there after a reload, before the server says more.
    await shop.reload()
    await shop.get_by_test_id("launcher").click()
    await expect(
        shop.get_by_test_id("message").get_by_test_id("attachment-transcript")
    ).to_have_text(said)
    assert errors == []
