"""Personal data out of text before it leaves for an external LLM.

Emails, phone numbers, card numbers and street addresses become `[email]`, `[phone]`,
`[card]` and `[address]`. What the bot needs to stay useful stays: order numbers
("LP-10023", "#1234"), prices, sizes, dates, postcodes. The patterns are deliberately
conservative for addresses (a number next to a street word, in English, Spanish,
German, French or Portuguese); a missed address costs privacy, so the LLM sees the
shopper's words only as context and the draft's facts are never taken from it.

What was replaced is kept, in order, so a text of our own (the bot's draft, an agent's
reply) can be restored after the LLM has rephrased or translated it. Pure rules, here in
the domain: the AI agent and the translators (ai/translation.py) both use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
ADDRESS = "[address]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# 13 to 19 digits, in groups split by single spaces or dashes; checked with Luhn.
_CARD = re.compile(r"(?<![A-Za-z0-9#-])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9-])")
# A phone number: "+" and 7 to 15 digits, or 9 to 15 digits, in groups split by spaces,
# dashes, dots or brackets. Not next to a Latin letter, "#" or "-" (order and tracking
# numbers: "LP-10023", "JD0146..."; but "電話は090..." is a phone), and never a date.
_PHONE = re.compile(
    r"(?<![A-Za-z0-9#+-])(?:\+\d|\(\d|\d)[\d ().-]{5,22}\d(?![A-Za-z0-9-])",
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")

_NAME = r"[^\W\d_][\w'.-]*"  # a word of a street's name
# Words that are not part of a street's name: "2 shirts on the street" is no address.
_NOT_NAME = r"(?!(?:on|in|at|to|of|for|from|by|the|a|an|and|or|my|your|this|that|down|up)\b)"
_ADDRESSES = [
    # en: "221B Baker Street", "12 Main St."
    re.compile(
        rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_NOT_NAME}{_NAME}\s+){{1,3}}"
        r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct)\b\.?",
        re.IGNORECASE,
    ),
    # es / pt: "Calle de Alcalá 42", "C/ Mayor, 5", "Rua Augusta, nº 274", "Av. Paulista 1578"
    re.compile(
        r"\b(?:calle|c/|avenida|avda\.?|av\.|paseo|plaza|camino|carrera|rua|r\.|travessa"
        r"|praça|alameda|estrada|rodovia)\s*"
        rf"(?:(?:{_NAME}|de|del|la|las|los|da|do|dos|das)\s+){{0,4}}{_NAME},?\s*"
        r"(?:n[º°o.]?\s*)?\d{1,5}[A-Za-z]?\b",
        re.IGNORECASE,
    ),
    # fr: "12 rue de la Paix", "3 bis avenue Victor Hugo"
    re.compile(
        r"\b\d{1,5}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|chemin|allée|allee"
        rf"|impasse|quai|cours)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*{_NAME}(?:[ -]{_NAME}){{0,3}}",
        re.IGNORECASE,
    ),
    # de: "Hauptstraße 5", "Berliner Str. 12a", "Am Lindenweg 3"
    re.compile(
        r"\b[^\W\d_][\w-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer)"
        r"\s*\d{1,5}[a-zA-Z]?\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b[^\W\d_][\w-]*\s(?:Straße|Strasse|Str\.|Weg|Gasse|Allee|Platz)\s*\d{1,5}[a-zA-Z]?\b"
    ),
]


@dataclass
class Redacted:
    text: str
    # (placeholder, what it replaced), in the order they appear.
    replaced: list[tuple[str, str]] = field(default_factory=list)


def redact(text: str) -> Redacted:
    """`text` with personal data replaced by placeholders."""
    found: list[tuple[int, int, str]] = []

    def take(start: int, end: int, placeholder: str) -> None:
        overlaps = [f for f in found if start < f[1] and f[0] < end]
        if any(p != placeholder for _, _, p in overlaps):
            return
        # Two readings of one address ("3 bis avenue" and "3 bis avenue Victor Hugo"):
        # the address is all of both.
        for f in overlaps:
            found.remove(f)
        start = min([start, *(s for s, _, _ in overlaps)])
        end = max([end, *(e for _, e, _ in overlaps)])
        found.append((start, end, placeholder))

    for match in _EMAIL.finditer(text):
        take(match.start(), match.end(), EMAIL)
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            take(match.start(), match.end(), CARD)
    for match in _PHONE.finditer(text):
        start, end = match.span()
        value = match.group()
        # Trailing separators belong to the sentence, not the number.
        digits = re.sub(r"\D", "", value)
        plus = value.startswith("+")
        if _DATE.fullmatch(value.strip()) or not (7 if plus else 9) <= len(digits) <= 15:
            continue
        if value.count("(") != value.count(")"):
            continue
        take(start, end, PHONE)
    for pattern in _ADDRESSES:
        for match in pattern.finditer(text):
            take(match.start(), match.end(), ADDRESS)
    found.sort()
    parts: list[str] = []
    replaced: list[tuple[str, str]] = []
    at = 0
    for start, end, placeholder in found:
        parts.append(text[at:start])
        parts.append(placeholder)
        replaced.append((placeholder, text[start:end]))
        at = end
    parts.append(text[at:])
    return Redacted("".join(parts), replaced)


def restore(text: str, replaced: list[tuple[str, str]]) -> str | None:
    """Put back what `redact` took out, each kind in its order; None if `text` does not
    carry the same placeholders as many times (the LLM dropped or invented one)."""
    for placeholder in {p for p, _ in replaced} | {EMAIL, PHONE, CARD, ADDRESS}:
        originals = [value for p, value in replaced if p == placeholder]
        if text.count(placeholder) != len(originals):
            return None
        for value in originals:
            text = text.replace(placeholder, value, 1)
    return text


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
