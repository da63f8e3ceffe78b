"""Trigger rules in the console: made through the form, previewed, read by agents."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Browser, expect

from portside.services.demo import DEMO_AGENTS, DEMO_STORE_KEY
from portside.services.demo_engagement import load_demo_engagement
from tests.browser.test_console_cards_in_browser import open_console_as
from tests.support.clients import login, widget
from tests.support.server import LiveServer

SUPERVISOR = DEMO_AGENTS[3][0]
# The demo store comes with rules of its own (switched off for the tests).
DEMO_RULES = [rule["name"] for rule in load_demo_engagement()["rules"]]
AGENT = DEMO_AGENTS[1][0]


def page_view(server: LiveServer, path: str) -> dict[str, Any]:
    url = f"{server.origin}{path}"
    return {
        "client_id": f"e-{uuid.uuid4().hex[:12]}",
        "type": "page_view",
        "url": url,
        "data": {"url": url, "title": "Linen shirt", "product": "linen-shirt"},
    }


async def visit(server: LiveServer, path: str) -> int:
    """A shopper's widget that saw one page: the visitor's id."""
    async with widget(server.ws_url, DEMO_STORE_KEY, server.origin) as shopper:
        welcome = await shopper.expect("welcome")
        events = [page_view(server, path)]
        await shopper.send(type="track", ref="t", session_id="s-1", events=events)
        ack = await shopper.expect("track.ack")
        assert ack["stored"] == 1
        return int(welcome["visitor"]["id"])


async def test_a_supervisor_makes_a_rule_fixes_a_field_error_and_previews_it(
    browser: Browser, demo_server: LiveServer
) -> None:
    visitor_id = await visit(demo_server, "/demo/products/preview-linen")
    errors: list[str] = []
    desk = await open_console_as(browser, demo_server, SUPERVISOR, errors)
    await desk.get_by_test_id("open-triggers").click()
    view = desk.get_by_test_id("triggers-dialog")
    await view.get_by_test_id("trigger-new").click()

    await view.get_by_test_id("trigger-name").fill("Linger on <b>linen</b>")
    await view.get_by_test_id("trigger-holdout-pct").fill("80")  # at most 50
    await view.get_by_test_id("condition-include").fill("*/products/preview-*")
    await view.get_by_test_id("trigger-add-group").click()
    group = view.locator(".trigger-group.is-nested")
    await group.get_by_test_id("condition-type").select_option("country")
    await group.get_by_test_id("condition-in").fill("es, mx")
    await group.get_by_test_id("trigger-add-condition").click()
    await group.get_by_test_id("condition-type").nth(1).select_option("exit_intent")
    await view.get_by_test_id("trigger-message-text").fill("Need a hand with sizes?")
    await view.get_by_test_id("trigger-add-language").click()
    spanish = view.get_by_test_id("trigger-language").nth(1)
    await spanish.get_by_test_id("trigger-lang-code").fill("es")
    await spanish.get_by_test_id("trigger-message-text").fill("¿Te ayudo con la talla?")
    await view.get_by_test_id("trigger-save").click()

    # The server names the field; the form shows its words under that field.
    holdout = view.locator('.trigger-field[data-field="holdout_pct"]')
    await expect(holdout.get_by_test_id("field-error")).to_contain_text("from 0 to 50")
    await expect(holdout.get_by_test_id("trigger-holdout-pct")).to_have_attribute(
        "aria-invalid", "true"
    )
    # The demo store's own rules are listed; the refused one is not.
    ours = view.get_by_test_id("trigger-row").filter(has_text="Linger on <b>linen</b>")
    await expect(ours).to_have_count(0)

    await view.get_by_test_id("trigger-holdout-pct").fill("10")
    await view.get_by_test_id("trigger-save").click()
    await expect(view.get_by_test_id("trigger-status")).to_have_text("Saved.")
    await expect(holdout.get_by_test_id("field-error")).to_be_hidden()
    row = ours
    await expect(row).to_have_count(1)
    # Text stays text: the name's markup is shown, not rendered.
    await expect(row).to_contain_text("Linger on <b>linen</b>")
    await expect(row).to_contain_text("Priority 0 · holdout 10%")
    await expect(row.get_by_test_id("trigger-stats")).to_have_text(
        "Fired 0 · contacted 0 · held out 0"
    )

    http = await login(demo_server.base_url, SUPERVISOR, "lotus-pine-demo")
    try:
        listed = (await http.get("/api/v1/triggers")).json()["triggers"]
        saved = [rule for rule in listed if rule["name"] not in DEMO_RULES]
        assert [rule["name"] for rule in saved] == ["Linger on <b>linen</b>"]
        rule = saved[0]
        assert rule["holdout_pct"] == 10
        assert rule["conditions"]["match"] == "all"
        url, group_json = rule["conditions"]["conditions"]
        assert url == {"type": "url", "include": ["*/products/preview-*"], "exclude": []}
        assert group_json == {
            "type": "group",
            "match": "any",
            "conditions": [{"type": "country", "in": ["ES", "MX"]}, {"type": "exit_intent"}],
        }
        assert rule["actions"]["message"] == {
            "texts": {"en": "Need a hand with sizes?", "es": "¿Te ayudo con la talla?"}
        }

        # The shopper who saw the page was in no country the rule names, nor leaving: the
        # preview finds nobody. With the product they saw instead, it finds them.
        await view.get_by_test_id("trigger-preview-run").click()
        summary = view.get_by_test_id("trigger-preview-summary")
        await expect(summary).to_contain_text("0 of")
        await group.get_by_test_id("condition-remove").first.click()  # country gone
        await group.get_by_test_id("condition-type").select_option("product")
        await group.get_by_test_id("condition-in").fill("linen-shirt")
        await view.get_by_test_id("trigger-preview-run").click()
        match = view.get_by_test_id("trigger-preview-match")
        await expect(match).to_have_count(1)
        await expect(match).to_have_attribute("data-visitor-id", str(visitor_id))
        await expect(match).to_contain_text("/demo/products/preview-linen")
        await expect(summary).to_contain_text("1 of")

        # Switched off from the list, at once.
        await row.get_by_test_id("trigger-row-enabled").uncheck()
        await expect(row).to_have_attribute("data-enabled", "false")
        got = (await http.get(f"/api/v1/triggers/{rule['id']}")).json()
        assert got["enabled"] is False

        # Deleting asks once more.
        await view.get_by_test_id("trigger-delete").click()
        await expect(view.get_by_test_id("trigger-delete")).to_have_text("Delete for good?")
        await expect(row).to_have_count(1)
        await view.get_by_test_id("trigger-delete").click()
        await expect(row).to_have_count(0)
        left = (await http.get("/api/v1/triggers")).json()["triggers"]
        assert sorted(rule["name"] for rule in left) == sorted(DEMO_RULES)
    finally:
        await http.aclose()

    # Chromium logs the refused save; nothing else went wrong.
    refused = [e for e in errors if "status of 400 (Bad Request)" in e]
    assert len(refused) == 1
    assert [e for e in errors if e not in refused] == []


async def test_an_agent_reads_the_rules_but_cannot_change_them(
    browser: Browser, demo_server: LiveServer
) -> None:
    http = await login(demo_server.base_url, SUPERVISOR, "lotus-pine-demo")
    rule = {
        "name": "Leaving the cart",
        "priority": 5,
        "holdout_pct": 20,
        "conditions": {"match": "any", "conditions": [{"type": "exit_intent"}]},
        "actions": {"message": None, "coupon": None, "open_widget": False, "notify_agents": True},
    }
    made = await http.post("/api/v1/triggers", json=rule)
    assert made.status_code == 201, made.text
    try:
        errors: list[str] = []
        desk = await open_console_as(browser, demo_server, AGENT, errors)
        await desk.get_by_test_id("open-triggers").click()
        view = desk.get_by_test_id("triggers-dialog")
        row = view.get_by_test_id("trigger-row").filter(has_text="Leaving the cart")
        await expect(row).to_contain_text("Priority 5 · holdout 20%")
        await row.get_by_test_id("trigger-open").click()
        await expect(view.get_by_test_id("trigger-readonly")).to_be_visible()
        await expect(view.get_by_test_id("trigger-name")).to_have_value("Leaving the cart")
        await expect(view.get_by_test_id("trigger-name")).to_be_disabled()
        await expect(view.get_by_test_id("condition-type")).to_have_value("exit_intent")
        await expect(view.get_by_test_id("trigger-notify-agents")).to_be_checked()
        await expect(view.get_by_test_id("trigger-message-on")).not_to_be_checked()
        await expect(row.get_by_test_id("trigger-row-enabled")).to_be_disabled()
        for control in ("trigger-save", "trigger-delete", "trigger-new", "trigger-add-condition"):
            await expect(view.get_by_test_id(control)).to_be_hidden()
        assert errors == []
    finally:
        await http.delete(f"/api/v1/triggers/{made.json()['id']}")
        await http.aclose()
