"""A shopper attaches a photo in the widget, in a real browser: it uploads, goes out with
the message once the upload is done, and shows as a thumbnail in the transcript."""

from __future__ import annotations

import re

from playwright.async_api import Browser, FilePayload, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.test_chat_in_browser import conversation_of, open_shop
from tests.support import media_files
from tests.support.clients import client_id, login
from tests.support.server import LiveServer

ADMIN = DEMO_AGENTS[0][0]


async def test_a_shopper_sends_a_photo_and_sees_its_thumbnail(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, demo_server, errors)
    shop.set_default_timeout(15000)
    # Nothing of the attachments' script is loaded until it is needed.
    assert await shop.evaluate("() => typeof window.PortsideMedia") == "undefined"

    caption = "The seam came apart after one wash"
    await shop.get_by_test_id("input").fill(caption)
    async with shop.expect_file_chooser() as chooser:
        await shop.get_by_test_id("attach").click()
    photo = FilePayload(name="seam.png", mimeType="image/png", buffer=media_files.png(600, 400))
    await (await chooser.value).set_files(files=photo)
    # The upload shows in the tray; Send waits for it, then sends photo and caption.
    await expect(shop.get_by_test_id("uploads")).to_contain_text("seam.png")
    await shop.get_by_test_id("send").click()

    mine = shop.get_by_test_id("message").filter(has_text=caption)
    await expect(mine).to_have_attribute("data-state", "sent")
    thumb = mine.get_by_test_id("attachment-image")
    await expect(thumb).to_be_visible()
    await expect(thumb).to_have_attribute("alt", "seam.png")
    # The thumbnail really loaded, from a signed URL fetched when it was shown.
    loaded = await shop.wait_for_function(
        "img => img.complete && img.naturalWidth", arg=await thumb.element_handle()
    )
    assert await loaded.json_value() == 320  # the 320 px thumbnail, not the full image
    # A click opens the full image: the link holds a signed URL of this Portside.
    href = await mine.locator("a.thumb").get_attribute("href")
    assert href is not None and href.startswith(f"{demo_server.base_url}/files/")
    await expect(shop.get_by_test_id("uploads")).to_be_empty()

    seq = int(await mine.get_attribute("data-seq") or 0)
    conversation_id = await conversation_of(shop)
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    try:
        answer = await http.get(f"/api/v1/conversations/{conversation_id}/events")
    finally:
        await http.aclose()
    found = [
        e
        for e in answer.json()["events"]
        if e["type"] == "message.created" and e["data"].get("text") == caption
    ]
    assert len(found) == 1
    assert found[0]["seq"] == seq
    (attachment,) = found[0]["data"]["attachments"]
    assert attachment["kind"] == "image"
    assert attachment["name"] == "seam.png"
    assert (attachment["width"], attachment["height"]) == (600, 400)
    assert errors == []


async def test_an_agents_pdf_shows_as_a_named_link_in_the_widget(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    shop = await open_shop(browser, demo_server, errors)
    shop.set_default_timeout(15000)
    await shop.get_by_test_id("input").fill("Can I have the return label?")
    await shop.get_by_test_id("send").click()
    conversation_id = await conversation_of(shop)

    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    try:
        upload = await http.post(
            "/api/v1/uploads", content=media_files.pdf(), headers={"X-Filename": "label.pdf"}
        )
        assert upload.status_code == 201, upload.text
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": "", "attachments": [upload.json()["id"]]},
        )
        assert sent.status_code == 201, sent.text
    finally:
        await http.aclose()

    link = shop.get_by_test_id("attachment-file")
    await expect(link).to_have_text("label.pdf")
    await expect(link).to_have_attribute("href", re.compile(f"^{demo_server.base_url}/files/"))
    assert errors == []
