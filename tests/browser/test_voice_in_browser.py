"""Voice notes recorded in a real browser: Chromium's fake microphone (a beep) feeds
MediaRecorder in the widget and in the console; what it records (WebM/Opus) is uploaded,
stored as AAC in MP4 and played on the other side. Also a photo pasted into and dropped
on the widget."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import av
import httpx
from playwright.async_api import Browser, Page, Request, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.test_chat_in_browser import PRODUCT, conversation_of, watch_for_errors
from tests.browser.test_console_cards_in_browser import open_conversation
from tests.support import media_files
from tests.support.clients import login
from tests.support.server import LiveServer

ADMIN = DEMO_AGENTS[0][0]
MICROPHONE = ["microphone"]


async def open_shop(
    browser: Browser,
    server: LiveServer,
    errors: list[str],
    *,
    permissions: list[str],
    locale: str = "en-US",
) -> Page:
    """The demo shop with its chat open, in a context that may (or may not) use the
    microphone."""
    context = await browser.new_context(
        locale=locale, permissions=permissions, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(15000)
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/demo/products/{PRODUCT}")
    await page.get_by_test_id("launcher").click()
    await expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    return page


async def open_desk(browser: Browser, server: LiveServer, errors: list[str]) -> Page:
    """The console, logged in as the demo admin, allowed the microphone."""
    context = await browser.new_context(
        locale="en-GB", permissions=MICROPHONE, viewport={"width": 1400, "height": 950}
    )
    page = await context.new_page()
    page.set_default_timeout(15000)
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/console/")
    await page.get_by_test_id("login-email").fill(ADMIN)
    await page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("connection-status")).to_have_attribute(
        "data-state", "connected"
    )
    return page


async def messages_with_attachments(server: LiveServer, conversation_id: int) -> list[Any]:
    http = await login(server.base_url, ADMIN, DEMO_PASSWORD)
    try:
        answer = await http.get(f"/api/v1/conversations/{conversation_id}/events")
        return [
            e
            for e in answer.json()["events"]
            if e["type"] == "message.created" and e["data"].get("attachments")
        ]
    finally:
        await http.aclose()


async def stored_bytes(server: LiveServer, attachment_id: int) -> bytes:
    http = await login(server.base_url, ADMIN, DEMO_PASSWORD)
    try:
        urls = await http.get(f"/api/v1/attachments/{attachment_id}/url")
        assert urls.status_code == 200, urls.text
    finally:
        await http.aclose()
    async with httpx.AsyncClient(timeout=10) as bare:
        got = await bare.get(urls.json()["url"])
    assert got.status_code == 200
    return got.content


def uploads_of(page: Page) -> list[str]:
    """The upload requests the page makes, from now on."""
    seen: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/api/v1/uploads" in request.url:
            seen.append(request.url)

    page.on("request", on_request)
    return seen


async def plays(page: Page, audio: Any) -> None:
    """The <audio> element (preload none: nothing is fetched until it plays) gets its
    signed URL, plays, and has a duration above 0."""
    handle = await audio.element_handle()
    await page.wait_for_function("a => a.getAttribute('src')", arg=handle)
    failed = await handle.evaluate(
        "a => a.play().then(() => null, (e) => `${e.name}: ${e.message} (${a.error?.code})`)"
    )
    assert failed is None
    await page.wait_for_function("a => a.duration > 0 && a.currentTime > 0", arg=handle)


async def test_a_shopper_records_a_voice_note_and_the_agent_plays_it(
    microphone_browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(microphone_browser, demo_server, errors, permissions=MICROPHONE)
    # The recorder's script loads only when the microphone is pressed.
    assert await shop.evaluate("() => typeof window.PortsideVoice") == "undefined"
    await shop.get_by_test_id("record").click()
    recorder = shop.get_by_test_id("recorder")
    await expect(recorder).to_be_visible()
    timer = recorder.get_by_test_id("record-timer")
    await expect(timer).to_have_text("0:00")
    await expect(timer).to_have_text("0:02")  # it advances while the shopper speaks
    await expect(recorder.get_by_test_id("record-limit")).to_have_text("/ 2:00")
    await expect(shop.get_by_test_id("record")).to_be_disabled()
    await recorder.get_by_test_id("record-send").click()
    await expect(recorder).to_have_count(0)

    # It appears in the chat once uploaded, as a voice note with a player.
    voice = shop.get_by_test_id("message").filter(has=shop.get_by_test_id("attachment-voice"))
    await expect(voice).to_have_attribute("data-state", "sent")
    await expect(voice).to_contain_text(re.compile(r"Voice note 0:0[2-4]"))
    await expect(shop.get_by_test_id("uploads")).to_be_empty()

    conversation_id = await conversation_of(shop)
    [message] = await messages_with_attachments(demo_server, conversation_id)
    [attachment] = message["data"]["attachments"]
    assert (attachment["kind"], attachment["content_type"]) == ("voice", "audio/mp4")
    assert 1500 <= attachment["duration_ms"] <= 5000
    assert attachment["name"] == "voice-note.webm"  # Chromium recorded WebM/Opus
    with av.open(io.BytesIO(await stored_bytes(demo_server, attachment["id"]))) as stored:
        assert "mp4" in stored.format.name
        assert stored.streams.audio[0].codec_context.name == "aac"

    # The agent's console shows a player that plays it.
    desk = await open_desk(microphone_browser, demo_server, errors)
    await open_conversation(desk, conversation_id)
    item = desk.locator(f'#transcript-log [data-attachment-id="{attachment["id"]}"]')
    await expect(item).to_contain_text(re.compile(r"Voice note \(0:0[2-5]\)"))
    await plays(desk, item.get_by_test_id("attachment-audio"))
    assert errors == []


async def test_a_cancelled_recording_is_neither_uploaded_nor_sent(
    microphone_browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(microphone_browser, demo_server, errors, permissions=MICROPHONE)
    uploads = uploads_of(shop)
    await shop.get_by_test_id("record").click()
    recorder = shop.get_by_test_id("recorder")
    await expect(recorder.get_by_test_id("record-timer")).to_have_text("0:01")
    await recorder.get_by_test_id("record-cancel").click()
    await expect(recorder).to_have_count(0)
    await expect(shop.get_by_test_id("record")).to_be_enabled()
    await expect(shop.get_by_test_id("uploads")).to_be_empty()

    # A text sent afterwards goes alone: nothing of the recording went with it.
    await shop.get_by_test_id("input").fill("Never mind, I'll type it")
    await shop.get_by_test_id("send").click()
    mine = shop.get_by_test_id("message").filter(has_text="Never mind")
    await expect(mine).to_have_attribute("data-state", "sent")
    assert await messages_with_attachments(demo_server, await conversation_of(shop)) == []
    assert uploads == []
    assert errors == []


async def test_a_refused_microphone_is_explained_in_the_shoppers_language(
    microphone_browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    # The shopper said no to the microphone (the context grants no permission).
    shop = await open_shop(microphone_browser, demo_server, errors, permissions=[], locale="pt-BR")
    mic = shop.get_by_test_id("record")
    await expect(mic).to_have_attribute("aria-label", "Gravar mensagem de voz")
    await mic.click()
    await expect(shop.get_by_test_id("record-error")).to_have_text(
        "Para gravar uma mensagem de voz, permita que este site use seu microfone."
    )
    await expect(shop.get_by_test_id("recorder")).to_have_count(0)
    await expect(mic).to_be_enabled()  # they may allow it and press again
    assert errors == []


async def test_an_agent_records_a_voice_note_and_the_shopper_gets_a_player(
    microphone_browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(microphone_browser, demo_server, errors, permissions=[])
    await shop.get_by_test_id("input").fill("Can you explain the sizes?")
    await shop.get_by_test_id("send").click()
    conversation_id = await conversation_of(shop)

    desk = await open_desk(microphone_browser, demo_server, errors)
    await open_conversation(desk, conversation_id)
    record = desk.get_by_test_id("record-button")
    await expect(record).to_be_enabled()
    # A note is for agents only: no voice notes there.
    await desk.get_by_test_id("mode-note").click()
    await expect(record).to_be_disabled()
    await desk.get_by_test_id("mode-note").click()
    await record.click()
    bar = desk.get_by_test_id("recorder")
    await expect(bar.get_by_test_id("record-timer")).to_have_text("0:02")
    await expect(bar.get_by_test_id("record-limit")).to_have_text("of 2:00")
    await bar.get_by_test_id("record-send").click()
    await expect(bar).to_be_hidden()
    mine = desk.get_by_test_id("event-message").filter(has=desk.get_by_test_id("attachment-audio"))
    await expect(mine).to_have_count(1)
    await expect(desk.get_by_test_id("composer-attachments")).to_be_hidden()

    # The shopper's chat shows the agent's voice note with a player that plays.
    theirs = shop.get_by_test_id("message").filter(has=shop.get_by_test_id("attachment-voice"))
    await expect(theirs).to_have_count(1)
    await plays(shop, theirs.get_by_test_id("attachment-voice"))
    [message] = await messages_with_attachments(demo_server, conversation_id)
    assert message["actor"]["type"] == "agent"
    [attachment] = message["data"]["attachments"]
    assert (attachment["kind"], attachment["content_type"]) == ("voice", "audio/mp4")
    assert attachment["duration_ms"] >= 1500
    assert errors == []


DROP_OR_PASTE = """
([target, kind, name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  const event =
    kind === "paste"
      ? new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
      : new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
  return event.defaultPrevented;
}
"""


async def test_a_photo_pasted_into_or_dropped_on_the_widget_is_sent(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, demo_server, errors, permissions=[])
    png = base64.b64encode(media_files.png(400, 300)).decode()
    for kind, target, name in (
        ("paste", shop.get_by_test_id("input"), "pasted.png"),
        ("drop", shop.get_by_test_id("panel"), "dropped.png"),
    ):
        handle = await target.element_handle()
        taken = await shop.evaluate(DROP_OR_PASTE, [handle, kind, name, png])
        assert taken is True  # the widget took the file (the page does nothing else with it)
        await expect(shop.get_by_test_id("uploads")).to_contain_text(name)
        await shop.get_by_test_id("send").click()
        thumb = shop.get_by_test_id("attachment-image").and_(shop.locator(f'[alt="{name}"]'))
        await expect(thumb).to_be_visible()
        await shop.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await thumb.element_handle()
        )
        await expect(shop.get_by_test_id("uploads")).to_be_empty()

    # A file the server refuses says so and stays in sight after Send; nothing goes.
    page = base64.b64encode(b"<!doctype html><p>not a photo").decode()
    panel = await shop.get_by_test_id("panel").element_handle()
    await shop.evaluate(DROP_OR_PASTE, [panel, "drop", "fake.png", page])
    line = shop.get_by_test_id("uploads").locator("li")
    await expect(line).to_have_attribute("data-state", "refused")
    await shop.get_by_test_id("send").click()
    await expect(line).to_contain_text("This file can't be sent")

    sent = await messages_with_attachments(demo_server, await conversation_of(shop))
    names = [m["data"]["attachments"][0]["name"] for m in sent]
    assert names == ["pasted.png", "dropped.png"]
    assert all(m["data"]["attachments"][0]["kind"] == "image" for m in sent)
    # Chromium logs the refused request (415); nothing else went wrong.
    assert [e for e in errors if "415" not in e] == []
