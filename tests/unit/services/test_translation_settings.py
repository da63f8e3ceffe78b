"""A store's `translation` settings: checked whole; anything unreadable is "off"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portside.config import Settings
from portside.errors import InvalidRequest
from portside.services.translation import agent_languages
from portside.services.translation_settings import (
    TranslationSettings,
    check_translation,
    public_translation,
    read_translation,
)


def test_the_default_is_off() -> None:
    assert read_translation(None) == TranslationSettings("off", 8000)
    assert public_translation({}) == {"provider": "off", "timeout_ms": 8000}


def test_a_valid_section_is_kept() -> None:
    body = {"provider": "argos", "timeout_ms": 20_000}
    assert check_translation(body, {}) == body
    assert read_translation({"translation": body}) == TranslationSettings("argos", 20_000)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "deepl"}, "provider"),
        ({"provider": "llm", "timeout_ms": 999}, "timeout_ms"),
        ({"timeout_ms": True}, "timeout_ms"),
        ({"translate": True}, "translate"),
    ],
)
def test_a_wrong_field_is_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        check_translation(body, {})
    assert error.value.details == [{"field": field, "problem": error.value.details[0]["problem"]}]


def test_an_unreadable_stored_section_means_off() -> None:
    assert read_translation({"translation": {"provider": 3}}).provider == "off"
    assert read_translation({"translation": "llm"}).provider == "off"


def test_an_agents_languages_are_base_codes_first_one_first() -> None:
    assert agent_languages(["zh-CN", "en", "zh", "", 3, "en-GB"]) == ["zh", "en"]
    assert agent_languages(None) == []


def test_the_argos_package_directory_is_a_server_setting() -> None:
    assert Settings.from_env({}).argos_packages is None
    settings = Settings.from_env({"PORTSIDE_ARGOS_PACKAGES": "/srv/argos"})
    assert settings.argos_packages == Path("/srv/argos")
