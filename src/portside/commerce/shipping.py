"""A store's shipping: zones of countries, their rates and times, and who pays duties.

Kept in the store's settings (section `shipping`, docs/api.md) so that the AI agent can
answer "how much to ship to Canada?" for that country, not with the whole table. A
country belongs to at most one zone; a country in none is one the store does not ship
to.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel import Locale
from babel.numbers import list_currencies

from portside.errors import InvalidRequest

DUTIES = ("included", "on_delivery")
MAX_ZONES = 50
MAX_PRICE = Decimal(100_000)
MAX_DAYS = 120
# Two-letter codes Babel names that are no country: unions, pseudo-regions, unknown.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
_ZONE_KEYS = frozenset({"name", "countries", "standard", "express", "duties"})
_RATE_KEYS = frozenset({"price", "days_min", "days_max"})


@dataclass(frozen=True)
class Rate:
    price: Decimal
    days_min: int
    days_max: int


@dataclass(frozen=True)
class Zone:
    name: str
    countries: frozenset[str]
    standard: Rate
    express: Rate | None
    duties: str  # "included" (shipped duties paid) or "on_delivery"


@dataclass(frozen=True)
class Shipping:
    currency: str
    free_over: Decimal | None
    zones: tuple[Zone, ...]

    def zone_for(self, country: str) -> Zone | None:
        return next((zone for zone in self.zones if country in zone.countries), None)


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166 two-letter codes of the countries and territories Babel names."""
    return frozenset(
        str(code)
        for code in Locale("en").territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isalpha()
        and code not in _NOT_COUNTRIES
    )


def parse_shipping(raw: object) -> Shipping:
    """The `shipping` settings section, checked; every error names its field."""
    if not isinstance(raw, dict):
        raise _invalid("shipping", "The shipping settings are a JSON object.")
    unknown = sorted(set(raw) - {"currency", "free_over", "zones"})
    if unknown:
        raise _invalid(unknown[0], f"Unknown shipping settings: {', '.join(unknown)}.")
    currency = raw.get("currency")
    if not isinstance(currency, str) or currency.upper() not in list_currencies():
        raise _invalid("currency", "currency is a three-letter currency code, like USD or EUR.")
    free_over = raw.get("free_over")
    zones_raw = raw.get("zones")
    if not isinstance(zones_raw, list) or not 1 <= len(zones_raw) <= MAX_ZONES:
        raise _invalid("zones", f"zones lists 1 to {MAX_ZONES} shipping zones.")
    zones = tuple(_zone(z, f"zones[{i}]") for i, z in enumerate(zones_raw))
    seen: dict[str, str] = {}
    for zone in zones:
        for country in sorted(zone.countries):
            if country in seen:
                raise _invalid(
                    "zones",
                    f"{country} is in two zones ({seen[country]!r} and {zone.name!r}); "
                    "a country belongs to one.",
                )
            seen[country] = zone.name
    return Shipping(
        currency=currency.upper(),
        free_over=None if free_over is None else _price(free_over, "free_over"),
        zones=zones,
    )


def shipping_or_none(raw: object) -> Shipping | None:
    """The store's shipping, or None when it has none (or it no longer checks out)."""
    if raw is None:
        return None
    try:
        return parse_shipping(raw)
    except InvalidRequest:
        return None


def _zone(raw: object, where: str) -> Zone:
    if not isinstance(raw, dict):
        raise _invalid(where, f"{where} is an object with name, countries and standard.")
    unknown = sorted(set(raw) - _ZONE_KEYS)
    if unknown:
        raise _invalid(f"{where}.{unknown[0]}", f"Unknown zone fields: {', '.join(unknown)}.")
    name = raw.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise _invalid(f"{where}.name", "A zone's name is 1 to 100 characters.")
    countries = raw.get("countries")
    if not isinstance(countries, list) or not countries:
        raise _invalid(f"{where}.countries", "countries lists ISO codes such as US, DE, JP.")
    codes = set()
    for code in countries:
        if not isinstance(code, str) or code.upper() not in country_codes():
            raise _invalid(
                f"{where}.countries", f"{code!r} is not a two-letter country code such as US."
            )
        codes.add(code.upper())
    duties = raw.get("duties", "on_delivery")
    if duties not in DUTIES:
        raise _invalid(f"{where}.duties", f"duties is one of {', '.join(DUTIES)}.")
    express = raw.get("express")
    return Zone(
        name=name.strip(),
        countries=frozenset(codes),
        standard=_rate(raw.get("standard"), f"{where}.standard"),
        express=None if express is None else _rate(express, f"{where}.express"),
        duties=str(duties),
    )


def _rate(raw: object, where: str) -> Rate:
    if not isinstance(raw, dict) or set(raw) != _RATE_KEYS:
        raise _invalid(where, f"{where} is {{price, days_min, days_max}}.")
    days = []
    for key in ("days_min", "days_max"):
        value = raw[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DAYS:
            raise _invalid(f"{where}.{key}", f"{key} is a whole number of days, 0 to {MAX_DAYS}.")
        days.append(value)
    if days[0] > days[1]:
        raise _invalid(f"{where}.days_min", "days_min cannot be more than days_max.")
    return Rate(_price(raw["price"], f"{where}.price"), days[0], days[1])


def _price(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(where, f"{where} is an amount, like 6.90.")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _invalid(where, f"{where} is an amount, like 6.90.") from None
    if not amount.is_finite() or not Decimal(0) <= amount <= MAX_PRICE:
        raise _invalid(where, f"{where} is an amount from 0 to {MAX_PRICE}.")
    return amount.quantize(Decimal("0.01"))


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, details=[{"field": field, "problem": message}])


EU = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]


def demo_shipping() -> dict[str, Any]:
    """The demo store's shipping, as its knowledge entries describe it."""

    def rate(price: str, low: int, high: int) -> dict[str, Any]:
        return {"price": price, "days_min": low, "days_max": high}

    return {
        "currency": "USD",
        "free_over": "79.00",
        "zones": [
            {
                "name": "North America, UK and EU",
                "countries": ["US", "GB", *EU],
                "standard": rate("6.90", 7, 12),
                "express": rate("19.90", 3, 5),
                "duties": "included",
            },
            {
                "name": "Canada",
                "countries": ["CA"],
                "standard": rate("6.90", 7, 12),
                "express": rate("19.90", 3, 5),
                "duties": "on_delivery",
            },
            {
                "name": "Australia",
                "countries": ["AU"],
                "standard": rate("7.90", 7, 12),
                "express": rate("21.90", 3, 5),
                "duties": "included",
            },
            {
                "name": "Japan and South Korea",
                "countries": ["JP", "KR"],
                "standard": rate("4.90", 5, 8),
                "express": rate("14.90", 2, 4),
                "duties": "included",
            },
            {
                "name": "Gulf",
                "countries": ["SA", "AE"],
                "standard": rate("8.90", 8, 14),
                "express": rate("24.90", 4, 6),
                "duties": "on_delivery",
            },
            {
                "name": "Brazil and Russia",
                "countries": ["BR", "RU"],
                "standard": rate("9.90", 12, 20),
                "express": rate("29.90", 6, 10),
                "duties": "on_delivery",
            },
        ],
    }


def shipping_to_dict(shipping: Shipping) -> dict[str, Any]:
    """As stored and shown: amounts as strings with two decimals, countries sorted."""

    def rate(value: Rate) -> dict[str, Any]:
        return {"price": str(value.price), "days_min": value.days_min, "days_max": value.days_max}

    return {
        "currency": shipping.currency,
        "free_over": None if shipping.free_over is None else str(shipping.free_over),
        "zones": [
            {
                "name": zone.name,
                "countries": sorted(zone.countries),
                "standard": rate(zone.standard),
                "express": None if zone.express is None else rate(zone.express),
                "duties": zone.duties,
            }
            for zone in shipping.zones
        ],
    }
