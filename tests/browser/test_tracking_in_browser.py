"""Shopping behaviour measured by the widget in a real browser: page views (with UTM),
SPA navigation, exit intent, the store's own events, and time on page sent by beacon
as the shopper leaves."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Browser, Page

from portside.services.demo import DEMO_STORE_KEY
from portside.storage import store_store, tracking_store
from tests.browser.test_chat_in_browser import watch_for_errors
from tests.support.factories import services_for
from tests.support.server import LiveServer

PRODUCT = "silk-camp-collar-shirt"


async def stored_events(server: LiveServer, visitor_id: int) -> list[Any]:
    async with services_for(server.database_url, server.data_dir) as svc:

        def read(conn: Any) -> list[Any]:
            store = store_store.find_store_by_key(conn, DEMO_STORE_KEY)
            assert store is not None
            rows = tracking_store.list_events(conn, store.id, visitor_id=visitor_id, limit=500)
            return list(reversed(rows))

        return await svc.db.read(read)


async def wait_for_events(server: LiveServer, visitor_id: int, wanted: dict[str, int]) -> list[Any]:
    """The visitor's events, oldest first, once at least `wanted` of each type are in."""
    rows: list[Any] = []
    for _ in range(100):
        rows = await stored_events(server, visitor_id)
        counts = {kind: sum(1 for row in rows if row.type == kind) for kind in wanted}
        if all(counts[kind] >= n for kind, n in wanted.items()):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"wanted {wanted}, stored {[(r.type, r.url) for r in rows]}")


async def visitor_of(page: Page) -> int:
    """The visitor id, once the widget has been welcomed."""
    # Polled from here: the demo's CSP (no 'unsafe-eval') stops wait_for_function.
    for _ in range(100):
        visitor_id = await page.evaluate("() => window.Portside && window.Portside.visitorId()")
        if isinstance(visitor_id, int):
            break
        await asyncio.sleep(0.1)
    assert isinstance(visitor_id, int), "the widget was never welcomed"
    return visitor_id


async def test_page_views_exit_intent_and_time_on_page_are_stored(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    context = await browser.new_context(
        locale="es-ES", viewport={"width": 1280, "height": 900}, timezone_id="Europe/Madrid"
    )
    page = await context.new_page()
    watch_for_errors(page, errors)
    landing = (
        f"{demo_server.base_url}/demo/products/{PRODUCT}?utm_source=newsletter&utm_campaign=xmas"
    )
    await page.goto(landing)
    visitor_id = await visitor_of(page)
    await page.wait_for_timeout(300)  # some visible time on the product page

    # The pointer leaves through the top of the window, towards the tabs.
    await page.mouse.move(640, 400)
    await page.mouse.move(640, 200, steps=5)
    await page.evaluate(
        "document.documentElement.dispatchEvent(new MouseEvent('mouseout', "
        "{bubbles: true, clientX: 640, clientY: -4, relatedTarget: null}))"
    )
    taken = await page.evaluate(
        "[window.Portside.track('add_to_cart', {product: 'silk-camp-collar-shirt', quantity: 1,"
        " price: '89.00', currency: 'EUR', cart_value: '89.00', cart_items: 1}),"
        " window.Portside.track('wishlist_add', {list: 'summer', size: 'M'}),"
        " window.Portside.track('Bad Name', {})]"
    )
    assert taken == [True, True, False]
    rows = await wait_for_events(
        demo_server, visitor_id, {"page_view": 1, "exit_intent": 1, "add_to_cart": 1, "custom": 1}
    )
    view = next(row for row in rows if row.type == "page_view")
    assert view.url == landing
    assert view.data["product"] == PRODUCT
    assert view.data["utm"] == {"source": "newsletter", "campaign": "xmas"}
    custom = next(row for row in rows if row.type == "custom")
    assert custom.data == {"name": "wishlist_add", "properties": {"list": "summer", "size": "M"}}
    sessions = {row.session_id for row in rows}
    assert len(sessions) == 1

    # A single-page navigation: a page view for the new address, the old page's time.
    await page.evaluate("history.pushState({}, '', '/demo/cart')")
    rows = await wait_for_events(demo_server, visitor_id, {"page_view": 2, "page_time": 1})
    second = [row for row in rows if row.type == "page_view"][1]
    assert second.url == f"{demo_server.base_url}/demo/cart"
    assert second.data["referrer"] == landing
    first_time = next(row for row in rows if row.type == "page_time")
    assert first_time.data["visible_ms"] > 0
    assert first_time.url == landing  # the page it measured

    # Leaving the page for real: the cart page's time goes by beacon on pagehide.
    await page.goto(f"{demo_server.base_url}/demo/")
    assert await visitor_of(page) == visitor_id
    rows = await wait_for_events(demo_server, visitor_id, {"page_view": 3, "page_time": 2})
    times = [row for row in rows if row.type == "page_time"]
    assert all(row.data["visible_ms"] >= 0 and row.data["idle_ms"] >= 0 for row in times)
    assert {row.session_id for row in rows} == sessions  # the same browsing session
    assert [row.url for row in rows if row.type == "page_view"][
        -1
    ] == f"{demo_server.base_url}/demo/"
    await context.close()
    assert errors == []
