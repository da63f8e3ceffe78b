"""Where a shopper probably is, from what their browser says (no IP lookups)."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global

_REGION = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z]{4})?[-_]([a-zA-Z]{2})\b")


@cache
def _zone_territories() -> dict[str, str]:
    return dict(get_global("zone_territories"))


def valid_timezone(name: object) -> str | None:
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    if name not in _known_zones():
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def country_for(timezone: str | None, language: str | None) -> str | None:
    """The ISO country of a time zone (America/New_York -> US), else of a locale (es-MX)."""
    if timezone:
        territory = _zone_territories().get(timezone)
        # "001" (the world) and "ZZ" (unknown: Etc/UTC, Etc/GMT+5) name no country.
        if territory and territory not in ("001", "ZZ"):
            return territory
    if language:
        match = _REGION.match(language)
        if match:
            return match.group(1).upper()
    return None
