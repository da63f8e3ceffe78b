"""A store's `tracking` settings (services/settings.py registers the section;
services/tracking.py and services/tracking_retention.py use it).

- `retention_days`: how long shopping-behaviour events are kept, 1 to 730, 90 by
  default; older ones are deleted by the hourly sweep.
- `identify_secret`: the key the store's server signs customer ids with for
  `Portside.identify` (domain/identify.py). Write-only, like the LLM's api_key: it is
  never shown, only `has_identify_secret`; a PUT without it keeps the one the store has,
  `""` or null removes it (and identify is refused until a new one is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portside.errors import field_error
from portside.services._sections import check_known, read_section

DEFAULT_RETENTION_DAYS = 90
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 730
MIN_SECRET = 16
MAX_SECRET = 200
_KNOWN = ("retention_days", "identify_secret")


@dataclass(frozen=True)
class TrackingSettings:
    retention_days: int = DEFAULT_RETENTION_DAYS
    identify_secret: str | None = None


def read_tracking(settings: Mapping[str, Any] | None) -> TrackingSettings:
    """The `tracking` section of a store's stored settings; unreadable is the defaults."""
    return read_section(settings, "tracking", check_tracking, TrackingSettings)


def check_tracking(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    check_known(body, _KNOWN)
    days = body.get("retention_days", DEFAULT_RETENTION_DAYS)
    if (
        not isinstance(days, int)
        or isinstance(days, bool)
        or not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS
    ):
        raise field_error(
            "retention_days",
            f"retention_days is a whole number of days from {MIN_RETENTION_DAYS} to "
            f"{MAX_RETENTION_DAYS}, not {days!r}.",
        )
    if "identify_secret" in body:
        secret = _secret(body["identify_secret"])
    else:
        kept = old.get("identify_secret")
        secret = kept if isinstance(kept, str) and kept else None
    return {"retention_days": days, "identify_secret": secret}


def public_tracking(value: Mapping[str, Any]) -> dict[str, Any]:
    """The section as the console shows it: the secret only as whether there is one."""
    settings = read_tracking({"tracking": dict(value)})
    return {
        "retention_days": settings.retention_days,
        "has_identify_secret": settings.identify_secret is not None,
    }


def _secret(value: object) -> str | None:
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or not MIN_SECRET <= len(value) <= MAX_SECRET
        or not all("!" <= char <= "~" for char in value)
    ):
        raise field_error(
            "identify_secret",
            f"identify_secret is {MIN_SECRET} to {MAX_SECRET} visible ASCII characters, "
            "no spaces (a long random string, kept on the store's server).",
        )
    return value
