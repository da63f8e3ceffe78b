"""Translation between an agent and a shopper: languages, pairs, and why one failed.

A translator (domain/ports.py `Translator`) either gives a text that passed the guard
(domain/grounding.py) or raises `TranslationFailed` with one of the reasons below; the
services turn that into the `translation_unavailable` error, naming the pair. Nothing
is ever passed off as translated when it was not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Why a text could not be translated.
NOT_SET_UP = "not_set_up"  # no translator for this store or server
NO_PAIR = "no_pair"  # the translator has no way between these two languages
UNKNOWN_LANGUAGE = "unknown_language"  # the shopper's language is not known
TIMEOUT = "timeout"
REFUSED = "refused"  # the translation failed the guard
FAILED = "failed"  # the provider gave an error

# English names, for prompts and for messages to agents.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "ms": "Malay",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


class TranslationFailed(Exception):
    """A text was not translated; `reason` is one of the constants above."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class LanguagePair:
    """A way from one language to another; `via` the language a pivot goes through."""

    source: str
    target: str
    via: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"from": self.source, "to": self.target, "via": self.via}


def base_language(tag: object) -> str | None:
    """ "de-DE" -> "de", "zh_Hans" -> "zh"; None for no tag or no valid one."""
    if not isinstance(tag, str) or not _TAG.fullmatch(tag.strip()):
        return None
    return re.split(r"[-_]", tag.strip())[0].lower()


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def pair_name(source: str, target: str) -> str:
    """ "Chinese (zh) to German (de)", for messages to agents."""
    return f"{language_name(source)} ({source}) to {language_name(target)} ({target})"


def find_pair(pairs: list[LanguagePair] | None, source: str, target: str) -> LanguagePair | None:
    """The pair that leads from `source` to `target`; `pairs` None means any pair."""
    if pairs is None:
        return LanguagePair(source, target)
    for pair in pairs:
        if pair.source == source and pair.target == target:
            return pair
    return None
