"""Answers from data: a product's care, materials, sizes and stock; the store's knowledge.

Everything said comes from the catalogue or the store's entries, in the shopper's
language where the data has it: a product's own translations (`names`, `care_i18n`),
the glossary for the words every shop shares (fibres, colours, measurements).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from portside.agent.replies import Replies

# Fewer than this many left in an option is "only a few left".
LOW_STOCK = 3


@dataclass(frozen=True)
class Glossary:
    """Shop words by English term and language: fibres, colours, measurements."""

    words: dict[str, dict[str, dict[str, str]]]

    def word(self, kind: str, term: str, lang: str) -> str:
        return self.words.get(kind, {}).get(term, {}).get(lang, term)


@cache
def default_glossary() -> Glossary:
    path = Path(str(resources.files("portside.agent") / "data" / "glossary.json"))
    return Glossary(json.loads(path.read_text(encoding="utf-8")))


class ProductAnswers:
    def __init__(self, replies: Replies, glossary: Glossary) -> None:
        self.replies = replies
        self.glossary = glossary

    def name(self, product: dict[str, Any], lang: str) -> str:
        return str(product.get("names", {}).get(lang) or product["name"])

    def care(self, product: dict[str, Any], lang: str) -> str:
        lines = product.get("care_i18n", {}).get(lang) or product["care"]
        # Washing is what shoppers ask about most: say first whether the machine will do.
        key = (
            "care_machine_washable" if product["machine_washable"] else "care_not_machine_washable"
        )
        # Care lines are sentences of their own: listed, not joined with "and".
        return self.replies.say(lang, key, product=self.name(product, lang), care="; ".join(lines))

    def materials(self, product: dict[str, Any], lang: str) -> str:
        parts = [
            f"{m['percent']}% {self.glossary.word('fibres', m['fibre'], lang)}"
            for m in product["materials"]
        ]
        return self.replies.say(
            lang,
            "materials",
            product=self.name(product, lang),
            materials=self.replies.join(lang, parts),
        )

    def sizes(self, product: dict[str, Any], lang: str) -> str:
        name = self.name(product, lang)
        chart = product.get("size_chart")
        if len(product["sizes"]) <= 1 and not chart:
            return self.replies.say(lang, "one_size", product=name)
        answer = self.replies.say(
            lang, "sizes", product=name, sizes=self.replies.join(lang, product["sizes"])
        )
        if chart:
            rows = []
            for size in product["sizes"]:
                measures = chart.get(size)
                if not measures:
                    continue
                described = ", ".join(
                    f"{self.glossary.word('dimensions', key, lang)} {value} cm"
                    for key, value in measures.items()
                )
                rows.append(f"{size}: {described}")
            answer += " " + self.replies.say(lang, "size_chart", chart="; ".join(rows))
        return answer

    def stock(self, product: dict[str, Any], lang: str) -> str:
        name = self.name(product, lang)
        by_color: dict[str, list[tuple[str, int]]] = {}
        for variant in product["variants"]:
            by_color.setdefault(variant["color"], []).append((variant["size"], variant["stock"]))
        available: list[str] = []
        few: list[str] = []
        gone: list[str] = []
        for color, sizes in by_color.items():
            label = self.glossary.word("colors", color, lang)
            in_stock = [size for size, stock in sizes if stock > 0]
            if not in_stock:
                gone.append(label)
                continue
            total = sum(stock for _, stock in sizes)
            option = label if len(sizes) == 1 else f"{label} ({', '.join(in_stock)})"
            (few if total <= LOW_STOCK else available).append(option)
        if not available and not few:
            return self.replies.say(lang, "stock_none", product=name)
        parts = []
        if available:
            parts.append(
                self.replies.say(
                    lang, "stock_in", product=name, options=self.replies.join(lang, available)
                )
            )
        if few:
            parts.append(
                self.replies.say(
                    lang, "stock_low", product=name, options=self.replies.join(lang, few)
                )
            )
        if gone:
            parts.append(
                self.replies.say(
                    lang, "stock_out", product=name, options=self.replies.join(lang, gone)
                )
            )
        return " ".join(parts)


def knowledge_answer(
    replies: Replies,
    entries: list[dict[str, Any]],
    intent: str,
    lang: str,
    store_language: str,
) -> str | None:
    """The store's entry for this intent in the shopper's language (else the store's, said
    so), or None if the store has none."""
    found = knowledge_source(entries, intent, lang, store_language)
    if found is None:
        return None
    text, language = found
    if language == lang:
        return text
    note = replies.say(
        lang, "knowledge_other_language", language=replies.language_name(lang, language)
    )
    return f"{text}\n\n{note}"


def knowledge_source(
    entries: list[dict[str, Any]], intent: str, lang: str, store_language: str
) -> tuple[str, str] | None:
    """The store's text for this intent and the language it is in: the shopper's, else the
    store's, else English, else any; None if the store has no entry for it."""
    for entry in entries:
        if intent not in entry["intents"]:
            continue
        texts = entry["text"]
        for language in (lang, store_language, "en", *texts):
            if texts.get(language):
                return str(texts[language]), language
    return None
