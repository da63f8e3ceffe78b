"""Language identification of short, informal chat messages."""

from __future__ import annotations

import pytest

from portside.ai.language import ScriptAndLinguaIdentifier, script_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("这个 dress 能机洗吗", "zh"),
        ("返品したいです", "ja"),
        ("checkout이 안 돼요", "ko"),
        ("وين طلبي؟", "ar"),
        ("где мой заказ??", "ru"),
        ("el tracking no funciona", "latin"),
        ("#1234", None),
        ("👍", None),
        ("", None),
    ],
)
def test_the_script_settles_what_it_can(text: str, expected: str | None) -> None:
    assert script_language(text) == expected


@pytest.fixture(scope="module")
def identifier() -> ScriptAndLinguaIdentifier:
    return ScriptAndLinguaIdentifier()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("can I machine wash this?", "en"),
        ("se puede lavar en lavadora?", "es"),
        ("kann man das in der waschmaschine waschen", "de"),
        ("est-ce que je peux le laver en machine", "fr"),
        ("posso lavar na maquina de lavar?", "pt"),
        ("这个 dress 能机洗吗", "zh"),
        ("洗濯機で洗えますか", "ja"),
    ],
)
def test_identifies_informal_messages(
    identifier: ScriptAndLinguaIdentifier, text: str, expected: str
) -> None:
    assert identifier.identify(text) == expected


def test_text_without_letters_has_no_language(identifier: ScriptAndLinguaIdentifier) -> None:
    assert identifier.identify("#48213 🙏") is None


def test_a_close_call_keeps_the_conversations_language(
    identifier: ScriptAndLinguaIdentifier,
) -> None:
    # Spanish or Portuguese? Nearly even, so a Spanish conversation stays Spanish...
    assert identifier.identify("mi código postal es 28013", previous="es") == "es"
    # ...but a message that is clearly another language switches.
    assert identifier.identify("obrigado, qual é o prazo de entrega?", previous="es") == "pt"
    assert identifier.identify("actually can we switch to English please", previous="es") == "en"
