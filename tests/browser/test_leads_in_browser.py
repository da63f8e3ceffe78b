"""A trigger rule that tells agents fires: online consoles show the hot lead."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_STORE_KEY
from tests.browser.test_console_cards_in_browser import open_console_as
from tests.browser.test_triggers_in_browser import page_view
from tests.support.clients import login, widget
from tests.support.server import LiveServer

SUPERVISOR = DEMO_AGENTS[3][0]
AGENT = DEMO_AGENTS[1][0]
OTHER_AGENT = DEMO_AGENTS[2][0]


async def test_a_hot_lead_shows_a_card_that_opens_the_conversation(
    browser: Browser, demo_server: LiveServer
) -> None:
    http = await login(demo_server.base_url, SUPERVISOR, DEMO_PASSWORD)
    rule = {
        "name": "Lead on <b>linen</b>",
        "conditions": {
            "match": "all",
            "conditions": [{"type": "url", "include": ["*/products/lead-*"]}],
        },
        "actions": {
            "message": {"texts": {"en": "Can I help you choose a size?"}},
            "coupon": None,
            "open_widget": False,
            "notify_agents": True,
        },
    }
    made = await http.post("/api/v1/triggers", json=rule)
    assert made.status_code == 201, made.text
    errors: list[str] = []
    try:
        desk = await open_console_as(browser, demo_server, AGENT, errors)
        # A colleague who is away is not disturbed.
        away = await open_console_as(browser, demo_server, OTHER_AGENT, errors)
        await away.get_by_test_id("presence").select_option("away")

        async with widget(demo_server.ws_url, DEMO_STORE_KEY, demo_server.origin) as shopper:
            visitor_id = int((await shopper.expect("welcome"))["visitor"]["id"])
            events = [page_view(demo_server, "/demo/products/lead-linen")]
            await shopper.send(type="track", ref="t", session_id="s-1", events=events)
            await shopper.expect("track.ack")

            card = desk.get_by_test_id("lead-card")
            await expect(card).to_have_count(1, timeout=10_000)
            await expect(card.get_by_test_id("lead-rule")).to_have_text("Lead on <b>linen</b>")
            await expect(card.get_by_test_id("lead-who")).to_contain_text(f"Visitor {visitor_id}")
            await expect(card.get_by_test_id("lead-page")).to_have_text("Linen shirt")
            await expect(card.get_by_test_id("lead-product")).to_have_text("linen-shirt")

            await card.get_by_test_id("lead-open").click()
            await expect(card).to_have_count(0)
            await expect(desk.get_by_test_id("transcript")).to_contain_text(
                "Can I help you choose a size?"
            )
            assert "#conversation-" in desk.url
        await expect(away.get_by_test_id("lead-card")).to_have_count(0)
        assert errors == []
    finally:
        await http.delete(f"/api/v1/triggers/{made.json()['id']}")
        await http.aclose()
