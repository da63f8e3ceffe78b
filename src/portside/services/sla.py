"""A store's `sla` settings: the targets the desk's live timers count down to.
Checked whole, each error naming its field (services/settings.py registers it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portside.domain.sla import SlaTargets
from portside.errors import field_error
from portside.services._sections import read_section

FIELDS = ("first_response_s", "next_response_s", "resolution_s", "warn_before_s")
MAX_TARGET_S = 30 * 86400


def read_sla(settings: Mapping[str, Any] | None) -> SlaTargets:
    return read_section(settings, "sla", check_sla, SlaTargets)


def check_sla(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    del old
    for key in body:
        if key not in FIELDS:
            raise field_error(key, f"sla has no setting {key!r}; they are {', '.join(FIELDS)}.")
    out: dict[str, Any] = {}
    for key in FIELDS[:3]:
        value = body.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TARGET_S
        ):
            raise field_error(
                key, f"{key} is a whole number of seconds from 1 to {MAX_TARGET_S}, or null."
            )
        out[key] = value
    warn = body.get("warn_before_s", 60)
    if not isinstance(warn, int) or isinstance(warn, bool) or not 0 <= warn <= 86400:
        raise field_error(
            "warn_before_s", "warn_before_s is a whole number of seconds, 0 to 86400."
        )
    out["warn_before_s"] = warn
    return out
