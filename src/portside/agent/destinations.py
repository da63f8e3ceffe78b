"""Shipping and customs for one country, from the store's shipping zones.

"How much is shipping to Canada?" is answered for Canada: the standard (and express)
price and business days, the free-shipping threshold, and, for customs, whether duties
are included or collected on delivery. With no country named, the shopper's own (from
their connection) is used; the store's knowledge entry answers when there is no country
or no zone data.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from portside.agent.countries import country_name
from portside.agent.replies import Replies
from portside.commerce.shipping import Rate, Shipping

COUNTRY_INTENTS = frozenset({"shipping_info", "customs_duties"})


def destination_answer(
    replies: Replies,
    lang: str,
    intent: str,
    shipping: Shipping,
    country: str,
    *,
    named: bool,
) -> str | None:
    """The answer for `country`, or None to fall back to the store's knowledge (a
    country the store has no zone for that the shopper did not name themselves)."""
    zone = shipping.zone_for(country)
    name = country_name(country, lang)
    if zone is None:
        return replies.say(lang, "shipping_not_to", country=name) if named else None
    if intent == "customs_duties":
        return replies.say(lang, f"duties_{zone.duties}", country=name)
    parts = [replies.say(lang, "shipping_to", country=name, **_rate(zone.standard, shipping, lang))]
    if zone.express is not None:
        parts.append(replies.say(lang, "shipping_express", **_rate(zone.express, shipping, lang)))
    if shipping.free_over is not None:
        amount = _money(shipping.free_over, shipping.currency, lang)
        parts.append(replies.say(lang, "shipping_free_over", amount=amount))
    return " ".join(parts)


def _rate(rate: Rate, shipping: Shipping, lang: str) -> dict[str, str]:
    return {
        "price": _money(rate.price, shipping.currency, lang),
        "days_min": str(rate.days_min),
        "days_max": str(rate.days_max),
    }


def _money(amount: Decimal, currency: str, lang: str) -> str:
    return str(format_currency(amount, currency, locale=lang))
