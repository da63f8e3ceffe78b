"""Which of a product's colours a shopper names ("the white one", "¿y en azul?", "白色的呢"),
in their language or in English, through the glossary's colour names."""

from __future__ import annotations

import re
from typing import Any

from portside.agent.answers import Glossary
from portside.agent.steps import clean, mentions

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def named_colours(
    glossary: Glossary, product: dict[str, Any], text: str, lang: str
) -> tuple[list[str], str | None]:
    """The product's colours the message names, and else a colour of the glossary it
    names that the product does not come in (as the shopper's language writes it)."""
    cleaned = clean(text)
    offered = list(dict.fromkeys(str(v["color"]) for v in product.get("variants") or []))
    found = [c for c in offered if _names(glossary, c, lang, cleaned, whole=True)]
    if not found:
        found = [c for c in offered if _names(glossary, c, lang, cleaned, whole=False)]
    if found:
        return found, None
    for colour in glossary.words.get("colors", {}):
        if colour not in offered and _names(glossary, colour, lang, cleaned, whole=True):
            return [], glossary.word("colors", colour, lang)
    return [], None


def _names(glossary: Glossary, colour: str, lang: str, cleaned: str, *, whole: bool) -> bool:
    """The message names the colour: its whole name, or (not `whole`) one of its words
    ("blue" for "Ink Blue", "azul" for "Azul tinta")."""
    for label in {clean(colour), clean(glossary.word("colors", colour, lang))}:
        if not label:
            continue
        if _CJK.search(label):
            bare = label.removesuffix("色")
            if label in cleaned or (not whole and len(bare) >= 2 and bare in cleaned):
                return True
            continue
        if whole and mentions(cleaned, label) is not None:
            return True
        if not whole and any(
            len(word) >= 3 and mentions(cleaned, word) is not None for word in label.split()
        ):
            return True
    return False
