"""Reading one section of a store's stored settings, as every section reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from portside.errors import InvalidRequest, field_error

T = TypeVar("T")
Check = Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]


def read_section(
    settings: Mapping[str, Any] | None, name: str, check: Check, make: Callable[..., T]
) -> T:
    """`make(**check(section))`: the section was checked when written, so what no longer
    passes (a rule tightened since) reads as the defaults, `make()`, rather than failing
    every request of the store."""
    raw = (settings or {}).get(name)
    if isinstance(raw, dict):
        try:
            return make(**check(raw, {}))
        except InvalidRequest:
            pass
    return make()


# ---- field checks every section shares ------------------------------------------------

MAX_URL = 500
MAX_API_KEY = 500


def check_known(body: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """Refuse keys a section does not have, naming each (a typo must not pass unseen)."""
    unknown = sorted(str(key) for key in body if key not in known)
    if unknown:
        raise InvalidRequest(
            f"Unknown settings: {', '.join(unknown)}. The known ones are {', '.join(known)}.",
            details=[{"field": key, "problem": "unknown setting"} for key in unknown],
        )


def check_bool(body: Mapping[str, Any], field: str, default: bool = False) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise field_error(field, f"{field} is true or false, not {value!r}.")
    return value


def check_base_url(value: object) -> str:
    """A provider's http(s) base address without credentials, query or fragment ("" none)."""
    if value is None or value == "":
        return ""
    problem = "base_url is an http:// or https:// address, like https://api.example.com/v1"
    if not isinstance(value, str) or len(value) > MAX_URL or not value.isprintable():
        raise field_error("base_url", problem + ".")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise field_error("base_url", f"{problem}, not {value!r}.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise field_error(
            "base_url", "base_url has no user, password, query or fragment; put the key in api_key."
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise field_error("base_url", f"{problem}, not {value!r}.") from None
    return value.strip().rstrip("/")


def check_api_key(value: object) -> str | None:
    if value is None or value == "":
        return None
    # It goes into an HTTP header: visible ASCII only.
    if (
        not isinstance(value, str)
        or len(value) > MAX_API_KEY
        or not all("!" <= char <= "~" for char in value)
    ):
        raise field_error(
            "api_key",
            f"api_key is the provider's key: at most {MAX_API_KEY} visible ASCII characters, "
            "no spaces.",
        )
    return value
