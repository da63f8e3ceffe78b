"""Attachments in the agents' console, in a real browser: a shopper's photo shows as a
thumbnail (with what the vision provider saw under it), a case card shows its photos,
and an agent's reply carries a PDF to the shopper's socket."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, FilePayload, Page, expect

from portside.services.attachments import do_record_description, do_record_transcript
from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_STORE_KEY
from tests.browser.test_console_cards_in_browser import open_console_as, open_conversation
from tests.support import media_files
from tests.support.clients import client_id, login, widget
from tests.support.factories import make_case, services_for
from tests.support.server import LiveServer

ADMIN = DEMO_AGENTS[0][0]


async def shopper_upload(
    server: LiveServer, token: str, data: bytes, name: str
) -> dict[str, object]:
    """An upload as the widget makes it: the visitor's token, from the shop's origin."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        answer = await http.post(
            f"/api/v1/uploads?store={DEMO_STORE_KEY}",
            content=data,
            headers={
                "Authorization": f"Bearer {token}",
                "Origin": server.origin,
                "X-Filename": name,
            },
        )
    assert answer.status_code == 201, answer.text
    attachment: dict[str, object] = answer.json()
    return attachment


async def loaded(page: Page, selector: str) -> int:
    """The natural width of the first image matching `selector` once it has loaded."""
    handle = await page.wait_for_function(
        f"""() => {{
            const img = document.querySelector({selector!r});
            return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null;
        }}"""
    )
    width = await handle.json_value()
    assert isinstance(width, int)
    return width


async def test_a_shoppers_photo_shows_as_a_thumbnail_and_a_pdf_reply_reaches_them(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    store_id = (await http.get("/api/v1/store")).json()["id"]
    await http.aclose()

    async with widget(demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin) as first:
        token = str((await first.expect("welcome"))["visitor"]["token"])
    photo = await shopper_upload(demo_server, token, media_files.png(600, 400), "seam.png")
    async with widget(
        demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin, hello={"token": token}
    ) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send",
            ref="r1",
            client_id=client_id(),
            text="it arrived like this",
            attachments=[photo["id"]],
        )
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
        async with services_for(demo_server.database_url, demo_server.data_dir) as svc:
            described = await do_record_description(
                svc,
                store_id,
                int(str(photo["id"])),
                {"text": "A shirt torn at the seam", "labels": ["damaged_item"], "provider": "t"},
            )
            assert described is not None
            case_id = await make_case(
                svc,
                store_id,
                conversation_id,
                kind="return",
                data={"order": "LP-10023", "reason": "damaged", "photos": [photo["id"]]},
            )

        desk = await open_console_as(browser, demo_server, ADMIN, errors)
        await open_conversation(desk, conversation_id)

        # The shopper's message: their words, and the photo as a thumbnail that loads.
        message = desk.get_by_test_id("event-message").filter(has_text="it arrived like this")
        item = message.locator(f'[data-attachment-id="{photo["id"]}"]')
        await expect(item.get_by_test_id("attachment-image")).to_be_visible()
        thumb = f'[data-attachment-id="{photo["id"]}"] [data-testid="attachment-image"]'
        # The 320 px thumbnail, not the 600 px photo.
        assert await loaded(desk, f"#transcript-log {thumb}") == 320
        await expect(item.get_by_test_id("attachment-description")).to_have_text(
            "What the photo shows (damaged item): A shirt torn at the seam"
        )
        # A click opens the full-size photo in a new tab.
        async with desk.context.expect_page() as opened:
            await item.locator("button.att-image").click()
        full = await opened.value
        await full.wait_for_url(re.compile(r"/files/\d+/full/"))
        await full.close()

        # The return case shows the same photo.
        card = desk.locator(f'[data-testid="case-card"][data-case-id="{case_id}"]')
        await expect(card.get_by_test_id("case-photo")).to_have_count(1)
        assert await loaded(desk, '[data-testid="case-photo"]') == 320

        # The agent attaches a PDF and replies with it.
        await desk.get_by_test_id("attach-input").set_input_files(
            files=FilePayload(
                name="label.pdf", mimeType="application/pdf", buffer=media_files.pdf()
            )
        )
        chip = desk.get_by_test_id("composer-attachment")
        await expect(chip).to_have_attribute("data-state", "ready")
        await expect(chip).to_contain_text("label.pdf")
        await desk.get_by_test_id("reply-input").fill("Here is your return label")
        await desk.get_by_test_id("reply-send").click()
        await expect(desk.get_by_test_id("composer-attachments")).to_be_hidden()

        reply = await shopper.expect(
            "event",
            timeout=10,
            where=lambda f: (
                f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "agent"
            ),
        )
        data = reply["event"]["data"]
        assert data["text"] == "Here is your return label"
        [sent] = data["attachments"]
        assert (sent["kind"], sent["name"], sent["content_type"]) == (
            "file",
            "label.pdf",
            "application/pdf",
        )
        # The agent's transcript shows it as a named link.
        mine = desk.get_by_test_id("event-message").filter(has_text="Here is your return label")
        await expect(mine.get_by_test_id("attachment-file")).to_contain_text("label.pdf")

    # The shopper may fetch the agent's PDF.
    async with httpx.AsyncClient(base_url=demo_server.base_url, timeout=10) as bare:
        urls = await bare.get(
            f"/api/v1/attachments/{sent['id']}/url?store={DEMO_STORE_KEY}",
            headers={"Authorization": f"Bearer {token}", "Origin": demo_server.origin},
        )
        assert urls.status_code == 200, urls.text
        got = await bare.get(urls.json()["url"])
    assert got.content == media_files.pdf()
    assert errors == []


async def test_a_refused_upload_says_why_and_nothing_is_sent(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    async with widget(demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="hello")
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
    desk = await open_console_as(browser, demo_server, ADMIN, errors)
    await open_conversation(desk, conversation_id)
    await desk.get_by_test_id("attach-input").set_input_files(
        files=FilePayload(name="photo.png", mimeType="image/png", buffer=b"<!doctype html><p>x")
    )
    chip = desk.get_by_test_id("composer-attachment")
    await expect(chip).to_have_attribute("data-state", "failed")
    await expect(chip.get_by_role("alert")).not_to_be_empty()
    await expect(desk.get_by_test_id("reply-send")).to_be_disabled()
    await chip.get_by_test_id("composer-attachment-remove").click()
    await expect(desk.get_by_test_id("composer-attachments")).to_be_hidden()
    # Chromium logs the refused request (415); nothing else went wrong.
    assert [e for e in errors if "415" not in e] == []


async def test_a_voice_note_plays_with_its_transcript_under_it(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    store_id = (await http.get("/api/v1/store")).json()["id"]
    await http.aclose()
    async with widget(demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin) as first:
        token = str((await first.expect("welcome"))["visitor"]["token"])
    voice = await shopper_upload(demo_server, token, media_files.voice(2.0), "note.wav")
    async with widget(
        demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin, hello={"token": token}
    ) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send", client_id=client_id(), text="", attachments=[voice["id"]]
        )
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
    async with services_for(demo_server.database_url, demo_server.data_dir) as svc:
        recorded = await do_record_transcript(
            svc,
            store_id,
            int(str(voice["id"])),
            {"text": "o casaco chegou rasgado", "language": "pt", "provider": "t"},
        )
        assert recorded is not None

    desk = await open_console_as(browser, demo_server, ADMIN, errors)
    await open_conversation(desk, conversation_id)
    item = desk.locator(f'#transcript-log [data-attachment-id="{voice["id"]}"]')
    await expect(item).to_contain_text("Voice note (0:02)")
    await expect(item.get_by_test_id("attachment-audio")).to_have_attribute(
        "src", re.compile(r"/files/\d+/full/")
    )
    await expect(item.get_by_test_id("attachment-transcript")).to_have_text(
        "Transcript (pt): o casaco chegou rasgado"
    )
    # A message with only a voice note has no empty text line.
    await expect(desk.get_by_test_id("event-message").last.locator(".msg-text")).to_have_count(0)
    assert errors == []
