"""Coupon pools in the console: made, filled with generated and imported codes, paged."""

from __future__ import annotations

import contextlib

from playwright.async_api import Browser, FilePayload, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.test_console_cards_in_browser import open_console_as
from tests.support.clients import login
from tests.support.server import LiveServer

SUPERVISOR = DEMO_AGENTS[3][0]
AGENT = DEMO_AGENTS[1][0]


def csv_file(content: bytes) -> FilePayload:
    return {"name": "codes.csv", "mimeType": "text/csv", "buffer": content}


async def test_a_supervisor_makes_a_pool_generates_and_imports_codes(
    browser: Browser, demo_server: LiveServer
) -> None:
    errors: list[str] = []
    desk = await open_console_as(browser, demo_server, SUPERVISOR, errors)
    await desk.get_by_test_id("open-coupons").click()
    view = desk.get_by_test_id("coupons-dialog")
    await view.get_by_test_id("pool-new").click()
    await view.get_by_test_id("pool-name").fill("Spring 10%")
    await view.get_by_test_id("pool-description").fill("10% off your order")
    await view.get_by_test_id("pool-pattern").fill("WELCOME-{ABC}")
    await view.get_by_test_id("pool-limit").fill("2")
    await view.get_by_test_id("pool-save").click()

    pattern = view.locator('.trigger-field[data-field="pattern"]')
    await expect(pattern.get_by_test_id("field-error")).to_contain_text("{ABC} is not a slot")
    # The demo store's own pool is listed; the refused one is not.
    await expect(view.get_by_test_id("pool-row").filter(has_text="Spring 10%")).to_have_count(0)
    await view.get_by_test_id("pool-pattern").fill("welcome-{XXXXXX}")
    await view.get_by_test_id("pool-save").click()
    await expect(view.get_by_test_id("pool-status")).to_have_text("Saved.")
    row = view.get_by_test_id("pool-row").filter(has_text="Spring 10%")
    await expect(row.get_by_test_id("pool-counts")).to_have_text("0 free · 0 issued · 0 redeemed")
    await expect(view.get_by_test_id("pool-pattern")).to_have_value("WELCOME-{XXXXXX}")

    # Generated: 60 codes, shown 50 at a time.
    await view.get_by_test_id("pool-generate-count").fill("60")
    await view.get_by_test_id("pool-generate").click()
    await expect(view.get_by_test_id("pool-generate-result")).to_have_text("60 codes generated.")
    await expect(row.get_by_test_id("pool-counts")).to_have_text("60 free · 0 issued · 0 redeemed")
    codes = view.get_by_test_id("pool-code")
    await expect(codes).to_have_count(50)
    await expect(codes.first).to_contain_text("WELCOME-")
    await view.get_by_test_id("pool-codes-more").click()
    await expect(codes).to_have_count(60)
    await expect(view.get_by_test_id("pool-codes-more")).to_be_hidden()

    # A file with a wrong line is refused whole, its wrong lines listed.
    upload = view.get_by_test_id("pool-import-file")
    bad = b"code\nSPRING-AAA1\nnot a code!\nSPRING-AAA2\n"
    await upload.set_input_files(files=csv_file(bad))
    await view.get_by_test_id("pool-import").click()
    problem = view.get_by_test_id("pool-import-problem")
    await expect(problem).to_have_count(1)
    await expect(problem).to_have_attribute("data-line", "3")
    await expect(problem).to_contain_text("Line 3:")
    await expect(view.get_by_test_id("pool-import-error")).to_contain_text("Nothing was imported")
    await expect(row.get_by_test_id("pool-counts")).to_have_text("60 free · 0 issued · 0 redeemed")

    good = b"code\nSPRING-AAA1\nspring-aaa2\n"
    await upload.set_input_files(files=csv_file(good))
    await view.get_by_test_id("pool-import").click()
    await expect(view.get_by_test_id("pool-import-summary")).to_have_text("2 codes imported.")
    await expect(row.get_by_test_id("pool-counts")).to_have_text("62 free · 0 issued · 0 redeemed")
    await expect(view.get_by_test_id("pool-view-counts")).to_have_text(
        "62 free · 0 issued · 0 redeemed"
    )
    await view.get_by_test_id("pool-codes-status").select_option("issued")
    await expect(view.get_by_test_id("pool-codes")).to_have_text("No issued codes.")

    async with contextlib.aclosing(
        await login(demo_server.base_url, SUPERVISOR, DEMO_PASSWORD)
    ) as http:
        pools = (await http.get("/api/v1/coupon-pools")).json()["coupon_pools"]
        pool = next(p for p in pools if p["name"] == "Spring 10%")
        assert pool["description"] == {"en": "10% off your order"}
        assert pool["per_visitor_limit"] == 2
        assert pool["counts"] == {"free": 62, "issued": 0, "redeemed": 0}
        listed = (await http.get(f"/api/v1/coupon-pools/{pool['id']}/codes?limit=100")).json()
        assert {"SPRING-AAA1", "SPRING-AAA2"} <= {code["code"] for code in listed["codes"]}

    # Chromium logs the two refusals (pattern, file); nothing else went wrong.
    refused = [e for e in errors if "status of 400 (Bad Request)" in e]
    assert len(refused) == 2
    assert [e for e in errors if e not in refused] == []


async def test_an_agent_reads_the_pools_but_cannot_change_them(
    browser: Browser, demo_server: LiveServer
) -> None:
    http = await login(demo_server.base_url, SUPERVISOR, DEMO_PASSWORD)
    body = {"name": "Read only <i>pool</i>", "description": {"es": "10 % de descuento"}}
    made = await http.post("/api/v1/coupon-pools", json=body)
    assert made.status_code == 201, made.text
    try:
        errors: list[str] = []
        desk = await open_console_as(browser, demo_server, AGENT, errors)
        await desk.get_by_test_id("open-coupons").click()
        view = desk.get_by_test_id("coupons-dialog")
        row = view.get_by_test_id("pool-row").filter(has_text="Read only <i>pool</i>")
        await row.get_by_test_id("pool-open").click()
        await expect(view.get_by_test_id("pool-readonly")).to_be_visible()
        await expect(view.get_by_test_id("pool-description")).to_have_value("10 % de descuento")
        await expect(view.get_by_test_id("pool-description")).to_be_disabled()
        await expect(view.get_by_test_id("pool-codes")).to_have_text("No free codes.")
        for control in ("pool-save", "pool-delete", "pool-new", "pool-generate", "pool-import"):
            await expect(view.get_by_test_id(control)).to_be_hidden()
        assert errors == []
    finally:
        await http.delete(f"/api/v1/coupon-pools/{made.json()['id']}")
        await http.aclose()
