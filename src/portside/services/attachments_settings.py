"""A store's `attachments` settings: which kinds shoppers and agents may send, and how
large. Checked whole, each error naming its field (services/settings.py registers it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portside.domain.media import KINDS, AttachmentLimits
from portside.errors import field_error
from portside.services._sections import read_section

NUMBERS = {
    # name: (default, low, high)
    "max_image_mb": (10, 1, 50),
    "max_file_mb": (10, 1, 50),
    "max_voice_s": (120, 5, 600),
}
FIELDS = ("kinds", *NUMBERS)


def read_attachments(settings: Mapping[str, Any] | None) -> AttachmentLimits:
    return read_section(settings, "attachments", check_attachments, _limits)


def _limits(**values: Any) -> AttachmentLimits:
    if "kinds" in values:
        values["kinds"] = tuple(values["kinds"])
    return AttachmentLimits(**values)


def check_attachments(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    del old
    for key in body:
        if key not in FIELDS:
            raise field_error(
                key, f"attachments has no setting {key!r}; they are {', '.join(FIELDS)}."
            )
    kinds = body.get("kinds", list(KINDS))
    if (
        not isinstance(kinds, list)
        or not all(isinstance(kind, str) and kind in KINDS for kind in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        raise field_error("kinds", f"kinds is a list of some of {', '.join(KINDS)}, each once.")
    out: dict[str, Any] = {"kinds": [kind for kind in KINDS if kind in kinds]}
    for key, (default, low, high) in NUMBERS.items():
        value = body.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise field_error(key, f"{key} is a whole number from {low} to {high}.")
        out[key] = value
    return out


def public_attachments(value: Mapping[str, Any]) -> dict[str, Any]:
    limits = read_attachments({"attachments": value})
    return {
        "kinds": list(limits.kinds),
        "max_image_mb": limits.max_image_mb,
        "max_file_mb": limits.max_file_mb,
        "max_voice_s": limits.max_voice_s,
    }
