"""A store's settings are checked whole, and an error names its field."""

from __future__ import annotations

from typing import Any

import pytest

from portside.errors import InvalidRequest
from portside.services.settings import (
    LlmSettings,
    check_handoff,
    check_llm,
    read_handoff,
    read_llm,
)

GOOD = {"enabled": True, "base_url": "https://llm.example/v1/", "model": "small-1"}


def test_a_good_llm_section_gets_its_defaults() -> None:
    assert check_llm(GOOD, {}) == {
        "enabled": True,
        "base_url": "https://llm.example/v1",
        "model": "small-1",
        "api_key": None,
        "timeout_ms": 2000,
        "translate": False,
    }


def test_the_api_key_is_kept_unless_given_and_cleared_by_empty_or_null() -> None:
    old = {"api_key": "sk-old"}
    assert check_llm(GOOD, old)["api_key"] == "sk-old"
    assert check_llm({**GOOD, "api_key": "sk-new"}, old)["api_key"] == "sk-new"
    assert check_llm({**GOOD, "api_key": ""}, old)["api_key"] is None
    assert check_llm({**GOOD, "api_key": None}, old)["api_key"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_url": "ftp://llm.example"}, "base_url"),
        ({"base_url": "llm.example/v1"}, "base_url"),
        ({"base_url": "https://user:pw@llm.example"}, "base_url"),
        ({"base_url": "https://llm.example/v1?key=1"}, "base_url"),
        ({"base_url": "http://llm.example:port/v1"}, "base_url"),
        ({"base_url": 42}, "base_url"),
        ({"base_url": ""}, "base_url"),  # enabled needs one
        ({"model": ""}, "model"),
        ({"model": "m" * 201}, "model"),
        ({"timeout_ms": 199}, "timeout_ms"),
        ({"timeout_ms": 2501}, "timeout_ms"),
        ({"timeout_ms": "2000"}, "timeout_ms"),
        ({"timeout_ms": 1000.5}, "timeout_ms"),
        ({"timeout_ms": True}, "timeout_ms"),
        ({"enabled": "yes"}, "enabled"),
        ({"translate": 1}, "translate"),
        ({"api_key": "sk key with spaces"}, "api_key"),
        ({"api_key": "sk-\nInjected: header"}, "api_key"),
        ({"api_key": 123}, "api_key"),
        ({"temperature": 0.2}, "temperature"),
    ],
)
def test_a_wrong_llm_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        check_llm({**GOOD, **change}, {})
    assert error.value.details == [{"field": field, "problem": error.value.args[0]}] or (
        field == "temperature"
        and error.value.details == [{"field": field, "problem": "unknown setting"}]
    )
    assert field in error.value.message


def test_a_disabled_llm_needs_nothing_else() -> None:
    assert check_llm({"enabled": False}, {})["enabled"] is False
    assert read_llm({}) == LlmSettings()
    assert not read_llm({"llm": {"enabled": False, "base_url": "http://x", "model": "m"}}).usable


def test_unreadable_stored_settings_count_as_no_llm() -> None:
    assert (
        read_llm({"llm": {"enabled": True, "base_url": "gopher://x", "model": "m"}}).usable is False
    )
    assert read_llm({"llm": "on"}) == LlmSettings()
    assert read_llm({"llm": {**GOOD, "api_key": "k"}}).usable


@pytest.mark.parametrize("limit", [0, 150, 99.5, None])
def test_refund_above_is_a_total_or_null(limit: float | None) -> None:
    assert check_handoff({"refund_above": limit}, {}) == {"refund_above": limit}
    assert read_handoff({"handoff": {"refund_above": limit}}).refund_above == limit


@pytest.mark.parametrize("limit", [-1, "150", True, float("inf"), [1]])
def test_a_wrong_refund_above_is_named(limit: object) -> None:
    with pytest.raises(InvalidRequest) as error:
        check_handoff({"refund_above": limit}, {})
    assert error.value.details == [{"field": "refund_above", "problem": error.value.message}]
