"""The demo store's pretend checkout, made real enough to close the loop: the order is
priced from the catalogue, its coupon checked, and it is stored and credited exactly as
an order webhook from a store's shop would be (services/orders_in.py)."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from portside.domain.coupons import normal_code
from portside.errors import NotFound, RateLimited, field_error
from portside.services import catalog
from portside.services.context import Services
from portside.services.demo import DEMO_STORE_KEY
from portside.services.demo_engagement import load_demo_engagement
from portside.services.orders_in import do_take_shop_order
from portside.storage import coupon_store

MAX_LINES = 50
MAX_QUANTITY = 99
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


async def do_demo_checkout(svc: Services, body: object, *, address: str) -> dict[str, Any]:
    """Place the demo shopper's order; `body` is {lines: [{slug, sku, qty}], name, email,
    country, coupon?, visitor_id?}. Returns the order's number, total and credits."""
    retry = await svc.limiters.webhooks.hit(f"demo-checkout:{address}")
    if retry:
        raise RateLimited(
            f"Too many orders from this address; wait {retry:.0f} s.", retry_after=retry
        )
    store = await catalog.find_store_by_key(svc, DEMO_STORE_KEY)
    if store is None:
        raise NotFound("There is no demo store; run `portside demo` first.")
    if not isinstance(body, dict):
        raise field_error("body", "The body is the order, a JSON object.")
    products = {p["slug"]: p for p in await catalog.list_products(svc, store.id)}
    items, total, currency = _priced(body.get("lines"), products)
    code = await _coupon(svc, store.id, body.get("coupon"))
    if code is not None:
        off = Decimal(load_demo_engagement()["demo_percent_off"]) / 100
        total = (total * (1 - off)).quantize(Decimal("0.01"))
    email = body.get("email")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
        raise field_error("email", "email is the shopper's email address, like ana@example.com.")
    country = body.get("country")
    if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
        raise field_error("country", "country is a two-letter code such as ES.")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise field_error("name", "name is the shopper's name, 1 to 200 characters.")
    now = svc.clock.now().isoformat().replace("+00:00", "Z")
    visitor = body.get("visitor_id")
    payload: dict[str, Any] = {
        "number": f"LP{secrets.randbelow(9_000_000) + 1_000_000}",
        "status": "paid",
        "placed_at": now,
        "paid_at": now,
        "total": f"{total:.2f}",
        "currency": currency,
        "email": email.strip(),
        "items": items,
        "ship_to": {"name": name.strip(), "country": country},
    }
    if isinstance(visitor, int) and not isinstance(visitor, bool):
        payload["visitor_id"] = str(visitor)
    if code is not None:
        payload["coupons"] = [code]
    taken = await do_take_shop_order(svc, store.id, payload, source="demo")
    assert taken.order is not None
    return {
        "number": payload["number"],
        "total": payload["total"],
        "currency": currency,
        "coupon": code,
        "attributions": taken.order["attributions"],
    }


def _priced(lines: object, products: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal, str]:
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise field_error("lines", f"lines is the cart: 1 to {MAX_LINES} of {{slug, sku, qty}}.")
    items: list[dict[str, Any]] = []
    total = Decimal(0)
    currencies = set()
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(line, dict):
            raise field_error(where, f"{where} is {{slug, sku, qty}}.")
        slug = line.get("slug")
        product = products.get(slug) if isinstance(slug, str) else None
        variant = next(
            (v for v in (product or {}).get("variants", []) if v.get("sku") == line.get("sku")),
            None,
        )
        if product is None or variant is None:
            raise field_error(where, f"{where} is not a product of this store any more.")
        qty = line.get("qty")
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QUANTITY:
            raise field_error(f"{where}.qty", f"{where}.qty is from 1 to {MAX_QUANTITY}.")
        price = Decimal(product["price"])
        total += price * qty
        currencies.add(product["currency"])
        items.append(
            {
                "name": product["name"],
                "variant": f"{variant['color']} / {variant['size']}",
                "sku": variant["sku"],
                "quantity": qty,
                "price": f"{price:.2f}",
            }
        )
    if len(currencies) != 1:
        raise field_error("lines", "A cart is paid in one currency.")
    return items, total, currencies.pop()


async def _coupon(svc: Services, store_id: int, raw: object) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    code = normal_code(raw)
    row = (
        None
        if code is None
        else await svc.db.read(lambda conn: coupon_store.find_code(conn, store_id, code))
    )
    if code is None or row is None or row.redeemed_at is not None:
        raise field_error("coupon", "This coupon code is not valid, or was already used.")
    return code
