"""What the bot says, in the shopper's language: `data/replies/<lang>.json`.

Every file has the same keys; a text's placeholders (`{product}`) are filled in here.
A language without a file speaks the store's default, then English.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


class Replies:
    def __init__(self, by_language: dict[str, dict[str, Any]]) -> None:
        if "en" not in by_language:
            raise ValueError("the replies need English, the last fallback")
        self._by_language = by_language

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._by_language)

    def speaks(self, lang: str | None) -> str:
        """The language replies will be in for a shopper writing `lang`."""
        return lang if lang in self._by_language else "en"

    def say(self, lang: str, key: str, **values: str) -> str:
        text = str(self._texts(lang)[key])
        return text.format(**values) if values else text

    def topic(self, lang: str, intent: str) -> str:
        topics = self._texts(lang)["topics"]
        return str(topics.get(intent, intent.replace("_", " ")))

    def phrase(self, lang: str, group: str, key: str) -> str:
        """One entry of a group of phrases (`status_names`), English if the language
        lacks it."""
        phrases = self._texts(lang).get(group) or self._by_language["en"][group]
        return str(phrases.get(key) or self._by_language["en"][group].get(key, key))

    def words(self, lang: str, group: str) -> frozenset[str]:
        return frozenset(str(w).lower() for w in self._texts(lang).get(group, []))

    def choices(self, lang: str, group: str) -> dict[str, frozenset[str]]:
        """A group of word lists by choice (`{"refund": [...], ...}`), the language's
        words and English's together."""
        mine = self._texts(lang).get(group) or {}
        english = self._by_language["en"].get(group) or {}
        return {
            choice: frozenset(str(w).lower() for w in [*mine.get(choice, []), *words])
            for choice, words in english.items()
        }

    def language_name(self, lang: str, of: str) -> str:
        return str(self._texts(lang)["language_names"].get(of, of))

    def join(self, lang: str, items: Sequence[str]) -> str:
        """ "a, b and c" as the language writes it."""
        texts = self._texts(lang)
        if len(items) <= 1:
            return "".join(items)
        head = str(texts["list_separator"]).join(items[:-1])
        return f"{head}{texts['list_last_separator']}{items[-1]}"

    def _texts(self, lang: str) -> dict[str, Any]:
        return self._by_language.get(lang) or self._by_language["en"]


@cache
def default_replies() -> Replies:
    folder = Path(str(resources.files("portside.agent") / "data" / "replies"))
    return Replies(
        {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.json"))
        }
    )
