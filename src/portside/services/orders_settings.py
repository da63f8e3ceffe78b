"""A store's `orders` settings: the secrets its order webhooks are signed with, and how
far back an order is credited to what came before it (docs/orders.md).

Checked whole like every section (services/settings.py). Both secrets are write-only:
never returned, only whether there is one (`has_shopify_secret`, `has_webhook_secret`);
a PUT without them keeps the stored ones, `""` or null removes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portside.domain.attribution import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS
from portside.errors import field_error
from portside.services._sections import check_known, read_section

FIELDS = ("shopify_secret", "webhook_secret", "attribution_window_days")
MIN_SHOPIFY_SECRET = 8
MIN_WEBHOOK_SECRET = 16
MAX_SECRET = 200


@dataclass(frozen=True)
class OrdersSettings:
    shopify_secret: str | None = None
    webhook_secret: str | None = None
    attribution_window_days: int = DEFAULT_WINDOW_DAYS


def read_orders(settings: Mapping[str, Any] | None) -> OrdersSettings:
    """The `orders` section of a store's stored settings (checked when written);
    anything unreadable counts as no secrets and the default window."""
    return read_section(settings, "orders", check_orders, OrdersSettings)


def check_orders(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    check_known(body, FIELDS)
    days = body.get("attribution_window_days", DEFAULT_WINDOW_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise field_error(
            "attribution_window_days",
            f"attribution_window_days is a whole number of days from 1 to {MAX_WINDOW_DAYS}, "
            f"not {days!r}.",
        )
    return {
        "shopify_secret": _secret(body, old, "shopify_secret", MIN_SHOPIFY_SECRET),
        "webhook_secret": _secret(body, old, "webhook_secret", MIN_WEBHOOK_SECRET),
        "attribution_window_days": days,
    }


def public_orders(value: Mapping[str, Any]) -> dict[str, Any]:
    """The section as agents read it: without the secrets."""
    settings = read_orders({"orders": value})
    return {
        "has_shopify_secret": settings.shopify_secret is not None,
        "has_webhook_secret": settings.webhook_secret is not None,
        "attribution_window_days": settings.attribution_window_days,
    }


def _secret(
    body: Mapping[str, Any], old: Mapping[str, Any], field: str, shortest: int
) -> str | None:
    if field not in body:
        kept = old.get(field)
        return kept if isinstance(kept, str) and kept else None
    value = body[field]
    if value is None or value == "":
        return None
    # Visible ASCII: it is typed or pasted from the shop's admin, and keys an HMAC.
    if (
        not isinstance(value, str)
        or not shortest <= len(value) <= MAX_SECRET
        or not all("!" <= char <= "~" for char in value)
    ):
        raise field_error(
            field,
            f"{field} is {shortest} to {MAX_SECRET} visible ASCII characters, no spaces.",
        )
    return value
