"""Checking and normalising tracked events, UTM parameters, and the identify HMAC."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from portside.clock import ManualClock
from portside.domain.identify import (
    IdentifyRefused,
    InvalidCustomer,
    check_customer,
    check_hash,
    identify_hash,
)
from portside.domain.ratelimit import SlidingWindowLimiter
from portside.domain.tracking import (
    MAX_BATCH,
    InvalidBatch,
    InvalidEvent,
    check_batch,
    check_session_id,
    parse_utm,
)


def one(kind: str, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"client_id": "c-1", "type": kind, "data": data or {}, **extra}


def test_utm_parameters_come_from_the_query_by_their_short_names() -> None:
    url = (
        "https://shop.example/p?utm_source=newsletter&UTM_Medium=email&utm_campaign=xmas+sale"
        "&utm_term=&utm_other=x&size=M"
    )
    assert parse_utm(url) == {"source": "newsletter", "medium": "email", "campaign": "xmas sale"}
    assert parse_utm("https://shop.example/") == {}
    assert parse_utm(None) == {}


def test_a_page_view_is_normalised_and_unknown_fields_dropped() -> None:
    [event] = check_batch(
        [
            one(
                "page_view",
                {
                    "url": "https://shop.example/p/dress?utm_source=ig",
                    "title": "  Silk dress  ",
                    "product": "silk-dress",
                    "category": "dresses",
                    "referrer": "",
                    "secret": "dropped",
                },
            )
        ]
    )
    assert event.url == "https://shop.example/p/dress?utm_source=ig"
    assert event.data == {
        "url": "https://shop.example/p/dress?utm_source=ig",
        "title": "Silk dress",
        "product": "silk-dress",
        "category": "dresses",
        "referrer": None,
        "utm": {"source": "ig"},
    }


def test_utm_given_by_the_widget_wins_over_the_url() -> None:
    [event] = check_batch(
        [one("page_view", {"url": "https://s.example/?utm_source=a", "utm": {"source": "b"}})]
    )
    assert event.data["utm"] == {"source": "b"}


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("page_view", {}, "data.url"),
        ("page_view", {"url": "javascript:alert(1)"}, "data.url"),
        ("page_view", {"url": "https://s.example/", "product": "a b"}, "data.product"),
        ("page_time", {"visible_ms": -1, "idle_ms": 0}, "data.visible_ms"),
        ("page_time", {"visible_ms": 5}, "data.idle_ms"),
        ("visibility", {"visible": "yes"}, "data.visible"),
        ("idle", {}, "data.idle"),
        ("add_to_cart", {"quantity": 0}, "data.quantity"),
        ("add_to_cart", {"price": "-3"}, "data.price"),
        ("add_to_cart", {"price": "1e9"}, "data.price"),
        ("add_to_cart", {"currency": "euro"}, "data.currency"),
        ("checkout_started", {"cart_items": 1.5}, "data.cart_items"),
        ("checkout_completed", {"value": float("inf")}, "data.value"),
        ("proactive_closed", {}, "data.fire_id"),
        ("custom", {"name": "Has Caps"}, "data.name"),
        ("custom", {"name": "ok", "properties": {"a": [1]}}, "data.properties.a"),
        ("custom", {"name": "ok", "properties": {"bad key": 1}}, "data.properties"),
        (
            "custom",
            {"name": "ok", "properties": {f"k{i}": i for i in range(21)}},
            "data.properties",
        ),
        ("custom", {"name": "ok", "properties": {"k": "x" * 501}}, "data.properties.k"),
        ("shopping", {}, "type"),
    ],
)
def test_bad_events_are_named_by_index_client_id_and_field(
    kind: str, data: dict[str, Any], field: str
) -> None:
    good = one("exit_intent")
    with pytest.raises(InvalidEvent) as refused:
        check_batch([good, {**one(kind, data), "client_id": "bad-one"}])
    assert refused.value.code == "invalid_event"
    details = refused.value.details
    assert isinstance(details, list)
    assert (details[0]["index"], details[0]["client_id"], details[0]["field"]) == (
        1,
        "bad-one",
        field,
    )


def test_money_becomes_a_plain_decimal_string_and_counts_stay_whole() -> None:
    [cart] = check_batch(
        [
            one(
                "add_to_cart",
                {
                    "product": "Linen shirt M",
                    "price": 59.9,
                    "cart_value": "120.50",
                    "currency": "eur",
                },
            )
        ]
    )
    assert cart.data == {
        "product": "Linen shirt M",
        "quantity": 1,
        "price": "59.9",
        "currency": "EUR",
        "cart_value": "120.5",
        "cart_items": None,
    }
    [done] = check_batch([one("checkout_completed", {"order": 10233, "value": 100})])
    assert done.data == {"order": "10233", "value": "100", "currency": None}


def test_a_custom_event_keeps_flat_properties() -> None:
    props = {"list": "summer", "count": 2, "gift": True, "note": None}
    [event] = check_batch([one("custom", {"name": "wishlist_add", "properties": props})])
    assert event.data == {"name": "wishlist_add", "properties": props}


def test_batches_and_sessions_have_bounds() -> None:
    with pytest.raises(InvalidBatch):
        check_batch([])
    with pytest.raises(InvalidBatch):
        check_batch("page_view")
    with pytest.raises(InvalidBatch):
        check_batch([one("exit_intent")] * (MAX_BATCH + 1))
    assert len(check_batch([one("exit_intent")] * MAX_BATCH)) == MAX_BATCH
    with pytest.raises(InvalidEvent):
        check_batch([{"type": "exit_intent"}])  # no client_id: it could not be deduplicated
    with pytest.raises(InvalidBatch):
        check_session_id("a\n")
    assert check_session_id("s-abc.1:2") == "s-abc.1:2"


def test_the_identify_hash_is_hmac_sha256_in_hex() -> None:
    expected = hmac.new(b"k" * 20, b"cust-1", hashlib.sha256).hexdigest()
    assert identify_hash("k" * 20, "cust-1") == expected
    check_hash("k" * 20, "cust-1", expected)
    check_hash("k" * 20, "cust-1", expected.upper())
    for wrong in (identify_hash("k" * 20, "cust-2"), expected[:-1], "", None, 42):
        with pytest.raises(IdentifyRefused):
            check_hash("k" * 20, "cust-1", wrong)
    with pytest.raises(IdentifyRefused, match="identify_secret"):
        check_hash(None, "cust-1", expected)


def test_a_customer_needs_an_id_and_well_formed_extras() -> None:
    customer = check_customer({"id": 881, "email": "a@b.example", "name": " Ana ", "tags": ["vip"]})
    assert (customer.id, customer.email, customer.name, customer.tags) == (
        "881",
        "a@b.example",
        "Ana",
        ("vip",),
    )
    assert check_customer({"id": "x"}).tags is None
    bad_ones: list[object] = [
        {},
        {"id": ""},
        {"id": "x", "email": "nope"},
        {"id": "x", "tags": ["VIP"]},
        [],
    ]
    for bad in bad_ones:
        with pytest.raises(InvalidCustomer):
            check_customer(bad)


def test_a_batch_is_counted_against_the_window_all_or_nothing() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(clock, limit=10, window_s=10)
    assert limiter.hit_many("v", 6) == 0
    clock.advance(4)
    assert limiter.hit_many("v", 4) == 0
    assert limiter.hit_many("v", 1) == pytest.approx(6)  # the first six leave at t=10
    clock.advance(6)
    assert limiter.hit_many("v", 6) == 0
    assert limiter.hit_many("v", 11) == 10  # larger than the window ever holds
