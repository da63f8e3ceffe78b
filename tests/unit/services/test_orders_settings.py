"""A store's `orders` settings: secrets write-only and kept, the window bounded."""

from __future__ import annotations

import pytest

from portside.errors import InvalidRequest
from portside.services.orders_settings import check_orders, public_orders, read_orders

GOOD = {
    "shopify_secret": "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",
    "webhook_secret": "whsec-0123456789abcdef",
    "attribution_window_days": 14,
}


def test_secrets_are_kept_but_never_shown() -> None:
    stored = check_orders(GOOD, {})
    assert public_orders(stored) == {
        "has_shopify_secret": True,
        "has_webhook_secret": True,
        "attribution_window_days": 14,
    }
    kept = check_orders({"attribution_window_days": 3}, stored)
    assert kept["shopify_secret"] == GOOD["shopify_secret"]
    assert kept["webhook_secret"] == GOOD["webhook_secret"]
    removed = check_orders({"webhook_secret": ""}, stored)
    assert removed["webhook_secret"] is None
    assert removed["shopify_secret"] == GOOD["shopify_secret"]


def test_the_defaults() -> None:
    settings = read_orders({})
    assert (settings.shopify_secret, settings.webhook_secret) == (None, None)
    assert settings.attribution_window_days == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"attribution_window_days": 91}, "attribution_window_days"),
        ({"attribution_window_days": True}, "attribution_window_days"),
        ({"webhook_secret": "short"}, "webhook_secret"),
        ({"webhook_secret": "has spaces in the secret"}, "webhook_secret"),
        ({"shopify_secret": 12345678}, "shopify_secret"),
        ({"secret": "x"}, "secret"),
    ],
)
def test_a_wrong_field_is_refused_by_name(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_orders(body, {})
    assert isinstance(refused.value.details, list)
    assert refused.value.details[0]["field"] == field
