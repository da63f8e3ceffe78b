"""A store's `engagement` settings: the frequency caps of proactive messages.
Checked whole, each error naming its field (services/settings.py registers it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portside.domain.triggers import Caps
from portside.errors import field_error
from portside.services._sections import read_section

FIELDS = {
    # name: (default, low, high)
    "max_per_visitor_per_day": (3, 1, 100),
    "quiet_after_close_min": (30, 0, 7 * 1440),
}


def read_engagement(settings: Mapping[str, Any] | None) -> Caps:
    return read_section(settings, "engagement", check_engagement, Caps)


def check_engagement(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    del old
    for key in body:
        if key not in FIELDS:
            raise field_error(
                key, f"engagement has no setting {key!r}; they are {', '.join(FIELDS)}."
            )
    out: dict[str, Any] = {}
    for key, (default, low, high) in FIELDS.items():
        value = body.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise field_error(key, f"{key} is a whole number from {low} to {high}.")
        out[key] = value
    return out


def public_engagement(value: Mapping[str, Any]) -> dict[str, Any]:
    caps = read_engagement({"engagement": value})
    return {
        "max_per_visitor_per_day": caps.max_per_visitor_per_day,
        "quiet_after_close_min": caps.quiet_after_close_min,
    }
