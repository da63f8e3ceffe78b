"""The language a conversation is held in, kept steady across short turns.

No detector can tell the language of "ok", "thx", "#1234" or "👍", and they all guess
anyway; a shopper who wrote in Spanish and then says "ok" still wants Spanish. So a new
language replaces the conversation's only on a message long enough to be sure of,
except where the script alone settles it (Hangul, kana, Arabic, Cyrillic).
"""

from __future__ import annotations

# A Latin-script message shorter than this says too little to switch languages.
MIN_WORDS_TO_SWITCH = 3
MIN_LETTERS_TO_SWITCH = 10
SCRIPT_LANGUAGES = frozenset({"ko", "ja", "ar", "ru"})


def conversation_language(previous: str | None, detected: str | None, text: str) -> str | None:
    """The conversation's language after `text`, which the identifier read as `detected`."""
    if detected is None or detected == previous:
        return previous
    if previous is None:
        return detected
    letters = sum(1 for char in text if char.isalpha())
    if detected in SCRIPT_LANGUAGES:
        return detected if letters >= 2 else previous
    if detected == "zh":
        # Han characters alone are Chinese or Japanese: in a Japanese conversation,
        # "返品希望" is Japanese.
        return previous if previous == "ja" else detected
    long_enough = len(text.split()) >= MIN_WORDS_TO_SWITCH and letters >= MIN_LETTERS_TO_SWITCH
    return detected if long_enough else previous
