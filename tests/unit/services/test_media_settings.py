"""The `speech` and `vision` settings sections (services/media_settings.py)."""

from __future__ import annotations

import pytest

from portside.errors import InvalidRequest
from portside.services.media_settings import (
    check_speech,
    check_vision,
    public_speech,
    read_speech,
    read_vision,
)


def test_speech_keeps_its_key_write_only() -> None:
    body = {"enabled": True, "base_url": "https://stt.example/v1/", "model": "whisper-1"}
    stored = check_speech({**body, "api_key": "sk-1"}, {})
    assert stored["base_url"] == "https://stt.example/v1"
    kept = check_speech({**body, "show_transcript_to_shopper": True}, stored)
    assert kept["api_key"] == "sk-1"
    shown = public_speech(kept)
    assert "api_key" not in shown
    assert shown["has_api_key"] is True
    assert shown["show_transcript_to_shopper"] is True
    assert check_speech({**body, "api_key": ""}, stored)["api_key"] is None
    settings = read_speech({"speech": kept})
    assert settings.endpoint.timeout_s == 15.0
    assert settings.provider == "endpoint"


def test_faster_whisper_needs_no_url() -> None:
    stored = check_speech({"enabled": True, "provider": "faster_whisper"}, {})
    assert read_speech({"speech": stored}).provider == "faster_whisper"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "model": "m"}, "base_url"),
        ({"enabled": True, "base_url": "https://x/v1"}, "model"),
        ({"provider": "siri"}, "provider"),
        ({"timeout_ms": 999}, "timeout_ms"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"api_key": "has space"}, "api_key"),
        ({"show_transcript_to_shopper": "yes"}, "show_transcript_to_shopper"),
        ({"colour": 1}, "colour"),
    ],
)
def test_speech_errors_name_their_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_speech(body, {})
    details = caught.value.details
    assert isinstance(details, list)
    assert details[0]["field"] == field


def test_vision_is_off_unless_enabled_with_an_endpoint() -> None:
    assert read_vision(None).enabled is False
    assert read_vision({"vision": {"enabled": True}}).enabled is False  # unreadable: off
    with pytest.raises(InvalidRequest):
        check_vision({"enabled": True, "model": "m"}, {})
    stored = check_vision({"enabled": True, "base_url": "http://127.0.0.1:9/v1", "model": "v"}, {})
    assert read_vision({"vision": stored}).endpoint.base_url == "http://127.0.0.1:9/v1"
