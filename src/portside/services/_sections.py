"""Reading one section of a store's stored settings, as every section reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from portside.errors import InvalidRequest

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
