"""Where a shopper probably is, from their browser's time zone and language."""

from __future__ import annotations

import pytest

from portside.services.geo import country_for, valid_timezone


@pytest.mark.parametrize(
    ("timezone", "language", "country"),
    [
        ("America/New_York", None, "US"),
        ("Asia/Shanghai", None, "CN"),
        ("Europe/Berlin", "en-US", "DE"),  # the time zone wins over the language
        (None, "es-MX", "MX"),
        (None, "pt_BR", "BR"),
        (None, "zh-Hans-CN", "CN"),
        (None, "en-gb", "GB"),
        ("UTC", "es-MX", "MX"),  # UTC is nowhere in particular: ask the language
        ("Etc/UTC", "es-MX", "MX"),
        ("Etc/GMT-8", "zh-Hans-TW", "TW"),
    ],
)
def test_country_comes_from_the_time_zone_then_the_language(
    timezone: str | None, language: str | None, country: str
) -> None:
    assert country_for(timezone, language) == country


@pytest.mark.parametrize(
    ("timezone", "language"),
    [
        (None, None),
        (None, "en"),
        (None, "zh-Hans"),
        (None, "es-419"),  # a region, but not a country
        (None, "en-USA"),
        ("UTC", None),
        ("Etc/UTC", None),
        ("Etc/GMT+5", "en"),
        ("Not/AZone", "fr"),
    ],
)
def test_country_is_unknown_when_nothing_names_one(
    timezone: str | None, language: str | None
) -> None:
    assert country_for(timezone, language) is None


@pytest.mark.parametrize("name", ["Asia/Shanghai", "Europe/Lisbon", "UTC", "Etc/GMT+5"])
def test_valid_timezone_returns_iana_names(name: str) -> None:
    assert valid_timezone(name) == name


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        8,
        "asia/shanghai",
        "Mars/Olympus_Mons",
        "../../../etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "Europe/" + "x" * 60,
        "UTC\n",
    ],
)
def test_valid_timezone_refuses_anything_else(name: object) -> None:
    assert valid_timezone(name) is None
