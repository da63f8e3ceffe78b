"""A store's shipping zones: what is accepted, and the error that names the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from portside.commerce.shipping import (
    demo_shipping,
    parse_shipping,
    shipping_or_none,
    shipping_to_dict,
)
from portside.errors import InvalidRequest


def zone(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Europe",
        "countries": ["DE", "fr"],
        "standard": {"price": "6.9", "days_min": 5, "days_max": 9},
        **changes,
    }


def test_the_demo_zones_check_out_and_round_trip() -> None:
    shipping = parse_shipping(demo_shipping())
    assert shipping.zone_for("DE") is not None and shipping.zone_for("DE").duties == "included"
    assert shipping.zone_for("CA").duties == "on_delivery"
    assert shipping.zone_for("CN") is None
    assert parse_shipping(shipping_to_dict(shipping)) == shipping


def test_amounts_and_codes_are_normalised() -> None:
    shipping = parse_shipping({"currency": "eur", "free_over": 50, "zones": [zone()]})
    assert shipping.currency == "EUR" and shipping.free_over == Decimal("50.00")
    assert shipping.zones[0].countries == {"DE", "FR"}
    assert shipping.zones[0].standard.price == Decimal("6.90")
    assert shipping.zones[0].express is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("nope", "shipping"),
        ({"currency": "XXX1", "zones": [zone()]}, "currency"),
        ({"currency": "USD", "zones": []}, "zones"),
        ({"currency": "USD", "zones": [zone()], "colour": 1}, "colour"),
        ({"currency": "USD", "free_over": -1, "zones": [zone()]}, "free_over"),
        ({"currency": "USD", "zones": [zone(countries=["ZZ"])]}, "zones[0].countries"),
        ({"currency": "USD", "zones": [zone(countries=[])]}, "zones[0].countries"),
        ({"currency": "USD", "zones": [zone(name="")]}, "zones[0].name"),
        ({"currency": "USD", "zones": [zone(duties="maybe")]}, "zones[0].duties"),
        ({"currency": "USD", "zones": [zone(weight=2)]}, "zones[0].weight"),
        (
            {
                "currency": "USD",
                "zones": [zone(standard={"price": "x", "days_min": 1, "days_max": 2})],
            },
            "zones[0].standard.price",
        ),
        (
            {
                "currency": "USD",
                "zones": [zone(standard={"price": 1, "days_min": 9, "days_max": 2})],
            },
            "zones[0].standard.days_min",
        ),
        (
            {"currency": "USD", "zones": [zone(express={"price": 1, "days_min": 1})]},
            "zones[0].express",
        ),
        ({"currency": "USD", "zones": [zone(), zone(name="Again", countries=["FR"])]}, "zones"),
    ],
)
def test_every_wrong_field_is_named(raw: object, field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_shipping(raw)
    assert caught.value.details == [{"field": field, "problem": caught.value.message}]


def test_a_country_in_two_zones_says_which() -> None:
    with pytest.raises(InvalidRequest, match="FR is in two zones"):
        parse_shipping({"currency": "USD", "zones": [zone(), zone(name="B", countries=["FR"])]})


def test_what_does_not_check_out_counts_as_none_for_the_bot() -> None:
    assert shipping_or_none(None) is None
    assert shipping_or_none({"currency": "USD", "zones": []}) is None
