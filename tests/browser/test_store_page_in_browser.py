"""The widget on a store's own page, another origin than Portside's, under the strict
Content-Security-Policy docs/widget.md tells stores to set: it connects, uploads a photo
and shows its thumbnail, sends a voice note that plays, and nothing is refused. In a
real browser; the store's page comes from a small server the test starts
(http://localhost:<port>: another origin on the same machine, as Chromium lets a page
reach only its own address space)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

from playwright.async_api import Browser, FilePayload, expect

from tests.browser.test_chat_in_browser import drop_file, watch_for_errors
from tests.support import media_files
from tests.support.factories import make_store, services_for
from tests.support.server import LiveServer


def store_page(portside: str, widget_key: str) -> str:
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title>"
        "<h1>Linen shirts</h1>"
        f'<script src="{portside}/widget.js" data-store="{widget_key}" async></script>'
    )


@contextlib.asynccontextmanager
async def serving(site: dict[str, str]) -> AsyncIterator[str]:
    """A store's web server: `site["page"]` with `site["policy"]` for any GET; its origin."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body, policy = site["page"].encode(), site["policy"]
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Security-Policy: {policy}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://localhost:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def documented_policy(portside: str, socket: str) -> str:
    """What docs/widget.md says a store's policy must allow, and nothing more."""
    return (
        "default-src 'self'; "
        f"script-src {portside}; "
        f"connect-src {portside} {socket}; "
        f"img-src 'self' {portside}; "
        f"media-src {portside}"
    )


async def test_the_widget_shows_photos_on_a_store_page_of_another_origin(
    browser: Browser, demo_server: LiveServer
) -> None:
    site = {"page": "", "policy": documented_policy(demo_server.base_url, demo_server.ws_url)}
    async with serving(site) as origin:
        async with services_for(demo_server.database_url, demo_server.data_dir) as svc:
            store = await make_store(svc, origin=origin, agents=1)
        site["page"] = store_page(demo_server.base_url, store.widget_key)
        await _chat_with_a_photo(browser, demo_server, origin)


async def _chat_with_a_photo(browser: Browser, server: LiveServer, origin: str) -> None:
    errors: list[str] = []
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{origin}/products/linen-shirt")
    await page.get_by_test_id("launcher").click()
    await expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected")
    page.set_default_timeout(15000)

    caption = "Is this the right size label?"
    await page.get_by_test_id("input").fill(caption)
    async with page.expect_file_chooser() as chooser:
        await page.get_by_test_id("attach").click()
    photo = FilePayload(name="label.png", mimeType="image/png", buffer=media_files.png(600, 400))
    await (await chooser.value).set_files(files=photo)
    await expect(page.get_by_test_id("uploads")).to_contain_text("label.png")
    await page.get_by_test_id("send").click()

    mine = page.get_by_test_id("message").filter(has_text=caption)
    await expect(mine).to_have_attribute("data-state", "sent")
    thumb = mine.get_by_test_id("attachment-image")
    loaded = await page.wait_for_function(
        "img => img.complete && img.naturalWidth", arg=await thumb.element_handle()
    )
    assert await loaded.json_value() == 320
    src = await thumb.get_attribute("src")
    assert src is not None and src.startswith(f"{server.base_url}/files/")

    # A voice note plays from Portside too (media-src).
    await drop_file(page, media_files.voice(1.5), "note.wav", "audio/wav")
    await expect(page.get_by_test_id("uploads")).to_contain_text("note.wav")
    await page.get_by_test_id("send").click()
    audio = page.get_by_test_id("attachment-voice")
    await expect(audio).to_have_attribute(
        "src", re.compile(f"^{re.escape(server.base_url)}/files/")
    )
    seconds = await audio.evaluate(
        """a => new Promise((done) => {
            a.addEventListener("loadedmetadata", () => done(a.duration), { once: true });
            a.addEventListener("error", () => done(-1), { once: true });
            a.preload = "metadata";
            a.load();
        })"""
    )
    assert 1.2 < seconds < 1.8
    # No CSP violation, no script error: what the docs list is enough.
    assert errors == []
    await context.close()
