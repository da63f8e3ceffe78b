"""The whole engagement loop in real browsers: a Spanish-speaking shopper lingers on a
product, is offered a coupon in Spanish, buys with it, and the store's dashboard credits
the order to the rule that spoke to her."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD
from tests.browser.test_chat_in_browser import watch_for_errors
from tests.browser.test_console_cards_in_browser import open_console_as
from tests.support.clients import login
from tests.support.server import LiveServer

ADMIN = DEMO_AGENTS[0][0]
PRODUCT = "silk-slip-dress"  # 158.00 USD
RULE = "Silk dress: linger 3 s (browser test)"
SPANISH = "¿Te ayudo con la talla? Aquí tienes un 10 % de descuento:"


async def open_product_in_spanish(browser: Browser, server: LiveServer, errors: list[str]) -> Page:
    context = await browser.new_context(
        locale="es-ES", timezone_id="Europe/Madrid", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    watch_for_errors(page, errors)
    await page.goto(f"{server.base_url}/demo/products/{PRODUCT}")
    return page


async def test_a_lingering_shopper_gets_a_coupon_in_her_language_and_her_order_is_credited(
    browser: Browser, demo_server: LiveServer
) -> None:
    http = await login(demo_server.base_url, ADMIN, DEMO_PASSWORD)
    pools = (await http.get("/api/v1/coupon-pools")).json()["coupon_pools"]
    pool = next(p for p in pools if p["name"] == "Welcome 10%")
    rule = {
        "name": RULE,
        "holdout_pct": 0,
        "conditions": {
            "match": "all",
            "conditions": [
                {"type": "url", "include": [f"*/demo/products/{PRODUCT}"]},
                {"type": "time_on_page", "seconds": 3},
            ],
        },
        "actions": {
            "message": {"texts": {"en": "Can I help with the size?", "es": SPANISH}},
            "coupon": {"pool_id": pool["id"]},
            "open_widget": True,
            "notify_agents": False,
        },
    }
    made = await http.post("/api/v1/triggers", json=rule)
    assert made.status_code == 201, made.text
    errors: list[str] = []
    try:
        shop = await open_product_in_spanish(browser, demo_server, errors)
        # Nobody opened the chat: after three visible seconds on the page the rule
        # opens it, in Spanish, with a code of its own.
        panel = shop.get_by_test_id("panel")
        await expect(panel).to_be_visible(timeout=15_000)
        await expect(shop.get_by_test_id("messages")).to_contain_text(SPANISH)
        code = (await shop.get_by_test_id("coupon-code").inner_text()).strip()
        assert re.fullmatch(r"LOTUS-[A-Z2-9]{6}", code), code
        await expect(shop.get_by_test_id("coupon")).to_contain_text(
            "10 % de descuento en tu primer pedido"
        )

        # She buys the dress with it: the demo checkout stores the order the way a
        # shop's webhook would, with the widget's visitor id and the coupon.
        await shop.get_by_test_id("add-to-cart").click()
        await expect(shop.get_by_test_id("cart-status")).to_contain_text("Added to your cart")
        await shop.goto(f"{demo_server.base_url}/demo/cart#checkout")
        form = shop.get_by_test_id("checkout-form")
        await expect(form).to_be_visible()
        await form.locator("#checkout-name").fill("Ana García")
        await form.locator("#checkout-email").fill("ana.garcia@example.com")
        await form.locator("#checkout-country").select_option("ES")
        await form.locator("#checkout-address").fill("Calle Mayor 1, Madrid")
        await shop.get_by_test_id("checkout-coupon").fill("NOT-A-CODE")
        await shop.get_by_test_id("place-order").click()
        await expect(shop.get_by_test_id("checkout-error")).to_contain_text("not valid")
        # The refused order is the page's one failed request, as the browser logs it.
        assert [e for e in errors if "400 (Bad Request)" not in e] == []
        errors.clear()
        await shop.get_by_test_id("checkout-coupon").fill(code.lower())
        await shop.get_by_test_id("place-order").click()
        await expect(shop.get_by_test_id("order-confirmation")).to_be_visible()
        await expect(shop.get_by_test_id("order-total")).to_have_text("$142.20")
        await expect(shop.get_by_test_id("order-number")).to_have_text(re.compile(r"LP\d{7}"))

        # The store sees the order credited to the rule, the coupon and the
        # conversation the proactive message started.
        codes = await http.get(f"/api/v1/coupon-pools/{pool['id']}/codes?status=redeemed")
        assert code in [c["code"] for c in codes.json()["codes"]]
        desk = await open_console_as(browser, demo_server, ADMIN, errors)
        await desk.get_by_test_id("open-dashboard").click()
        view = desk.get_by_test_id("dashboard")
        await expect(view.get_by_test_id("card-revenue")).to_contain_text("142.20 USD")
        uplift = view.get_by_test_id("table-uplift")
        row = uplift.locator("tr", has_text=RULE)
        await expect(row).to_have_count(1)
        revenue = view.get_by_test_id("table-revenue")
        await revenue.get_by_test_id("by-revenue").select_option("rule")
        await expect(revenue.locator("tr", has_text=RULE)).to_contain_text("142.20")
        assert errors == []
    finally:
        await http.delete(f"/api/v1/triggers/{made.json()['id']}")
        await http.aclose()
