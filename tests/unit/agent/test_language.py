"""The conversation's language holds across short turns."""

from __future__ import annotations

import pytest

from portside.agent.language import conversation_language


@pytest.mark.parametrize(
    ("previous", "detected", "text", "expected"),
    [
        (None, "es", "hola, tienen envios a mexico?", "es"),
        (None, None, "#1234", None),
        ("es", None, "#1234", "es"),
        ("es", "en", "ok", "es"),
        ("es", "en", "thx!!", "es"),
        ("es", "de", "ok danke", "es"),
        ("es", "en", "actually can we switch to English please", "en"),
        ("en", "zh", "谢谢", "zh"),
        ("ja", "zh", "返品希望", "ja"),
        ("en", "ko", "네", "en"),
        ("en", "ko", "감사합니다", "ko"),
        ("fr", "ru", "спасибо большое", "ru"),
    ],
)
def test_conversation_language(
    previous: str | None, detected: str | None, text: str, expected: str | None
) -> None:
    assert conversation_language(previous, detected, text) == expected
