"""Orders as the AI agent reads them, and the built-in store's demo orders.

An order is a plain dict: `number` (as the store numbers it: the demo's "LP10231",
Shopify's "#1001"), `email` and `postcode` (what a shopper proves the order is theirs
with), `status` (processing, shipped, in_transit, out_for_delivery, delivered,
cancelled), `carrier`, `tracking`, dates as ISO strings (`placed_on`, `shipped_on`,
`expected_on`, `delivered_on`), `items` (each with its `price`), `total` and
`currency` (amounts as strings), `ship_to`, and `source`: "demo" for the built-in
store's own, "shopify" or "api" for an order the store's shop sent by webhook
(commerce/shopify.py, commerce/order_json.py give the same shape). Shoppers' ways of
writing order numbers are read in domain/order_numbers.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

STATUSES = ("processing", "shipped", "in_transit", "out_for_delivery", "delivered", "cancelled")
# Orders whose shop is their source of truth: the shop changes them, not Portside.
SHOP_SOURCES = frozenset({"shopify", "api"})


def kept_by_shop(order: dict[str, Any]) -> bool:
    """The order came from the store's shop, which alone can change it (cancel it,
    send it elsewhere); Portside's copy only follows the shop's webhooks."""
    return order.get("source") in SHOP_SOURCES


# Carriers' public tracking pages, by the first word of the carrier's name. A store's
# connector may give an order its own `tracking_url`, which wins.
_TRACKING_PAGES = {
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "correios": "https://rastreamento.correios.com.br/app/index.php?objetos={}",
}


def tracking_url(order: dict[str, Any]) -> str | None:
    """Where the shopper can follow the parcel: the order's own `tracking_url`, else the
    carrier's page for its tracking number; None when neither is known."""
    own = order.get("tracking_url")
    if isinstance(own, str) and own.startswith(("https://", "http://")):
        return own
    carrier, number = order.get("carrier"), order.get("tracking")
    if not isinstance(carrier, str) or not carrier.split() or not number:
        return None
    page = _TRACKING_PAGES.get(carrier.split()[0].lower())
    return page.format(quote(str(number), safe="")) if page else None


def demo_orders(today: date) -> list[dict[str, Any]]:
    """The demo store's orders, dated around `today` so that they always look current."""

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    def order(number: int, email: str, postcode: str, status: str, **fields: Any) -> dict[str, Any]:
        return {
            "number": f"LP{number}",
            "email": email,
            "postcode": postcode,
            "status": status,
            "carrier": None,
            "tracking": None,
            "shipped_on": None,
            "expected_on": None,
            "delivered_on": None,
            "currency": "USD",
            **fields,
        }

    def item(slug: str, name: str, size: str, color: str, price: str) -> dict[str, Any]:
        return {
            "slug": slug,
            "name": name,
            "size": size,
            "color": color,
            "quantity": 1,
            "price": price,
        }

    shirt = item("washed-linen-shirt", "Washed Linen Shirt", "M", "Sand", "49.00")
    dress = item("silk-slip-dress", "Silk Charmeuse Slip Dress", "S", "Champagne", "158.00")
    return [
        order(
            10231,
            "ana.garcia@example.com",
            "28013",
            "in_transit",
            carrier="DHL Express",
            tracking="JD014600003828",
            placed_on=day(-6),
            shipped_on=day(-4),
            expected_on=day(3),
            items=[shirt],
            total="49.00",
            ship_to={"name": "Ana García", "city": "Madrid", "country": "ES"},
        ),
        order(
            10232,
            "emily.clark@example.com",
            "43215",
            "out_for_delivery",
            carrier="UPS",
            tracking="1Z999AA10123456784",
            placed_on=day(-9),
            shipped_on=day(-7),
            expected_on=day(0),
            items=[dress],
            total="158.00",
            ship_to={"name": "Emily Clark", "city": "Columbus", "country": "US"},
        ),
        order(
            10233,
            "yuki.sato@example.com",
            "150-0001",
            "delivered",
            carrier="Yamato",
            tracking="4567-8901-2345",
            placed_on=day(-14),
            shipped_on=day(-12),
            expected_on=day(-8),
            delivered_on=day(-8),
            items=[shirt],
            total="49.00",
            ship_to={"name": "Yuki Sato", "city": "Tokyo", "country": "JP"},
        ),
        order(
            10234,
            "li.wei@example.com",
            "200040",
            "processing",
            placed_on=day(0),
            expected_on=day(9),
            items=[dress, shirt],
            total="207.00",
            ship_to={"name": "Li Wei", "city": "Shanghai", "country": "CN"},
        ),
        order(
            10235,
            "lucas.silva@example.com",
            "01310-100",
            "shipped",
            carrier="Correios",
            tracking="LB123456789CN",
            placed_on=day(-3),
            shipped_on=day(-1),
            expected_on=day(14),
            items=[shirt],
            total="49.00",
            ship_to={"name": "Lucas Silva", "city": "São Paulo", "country": "BR"},
        ),
        order(
            10236,
            "omar.haddad@example.com",
            "11564",
            "cancelled",
            placed_on=day(-5),
            items=[dress],
            total="158.00",
            ship_to={"name": "Omar Haddad", "city": "Riyadh", "country": "SA"},
        ),
    ]
