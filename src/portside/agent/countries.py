"""Which country a shopper names ("do you ship to Canada?", "¿y a México?", "寄到日本"):
country names from Babel in the shopper's language and in English, and a few everyday
names Babel does not give ("USA", "UK", "the States")."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale, UnknownLocaleError

from portside.agent.steps import clean, mentions
from portside.commerce.shipping import country_codes

# Everyday names, lowercase, as `clean` leaves them; "US" and "UK" count only in capitals.
_ALIASES = {
    "usa": "US",
    "u s a": "US",
    "america": "US",
    "the states": "US",
    "united states": "US",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "eeuu": "US",
    "ee uu": "US",
    "estados unidos": "US",
    "reino unido": "GB",
    "holland": "NL",
    "korea": "KR",
    "美国": "US",
    "英国": "GB",
    "韩国": "KR",
    "アメリカ": "US",
    "イギリス": "GB",
    "韓国": "KR",
    "미국": "US",
    "영국": "GB",
    "السعودية": "SA",
    "الإمارات": "AE",
    "الامارات": "AE",
    "сша": "US",
    "америка": "US",
    "англия": "GB",
}
# English names that are more often something else in a shop ("a jersey", "Georgia" the
# state): named only through an alias or in another language.
_AMBIGUOUS = frozenset({"jersey", "chad", "jordan", "georgia", "guernsey", "turkey"})
_CODES = re.compile(r"(?<![A-Za-z])(US|USA|UK|UAE)(?![A-Za-z])")
_CODE_NAMES = {"US": "US", "USA": "US", "UK": "GB", "UAE": "AE"}


@cache
def _names(lang: str) -> tuple[tuple[str, str], ...]:
    """(name, code) for the language and English, longest name first (so "South
    Korea" wins over "Korea")."""
    names: dict[str, str] = {}
    for language in dict.fromkeys(("en", lang)):
        try:
            territories = Locale.parse(language).territories
        except (UnknownLocaleError, ValueError):
            continue
        for code, name in territories.items():
            if code in country_codes() and clean(name) not in _AMBIGUOUS:
                names.setdefault(clean(name), code)
                if language == "ar" and name.startswith("ال") and len(name) > 4:
                    # "للكويت", "بالسعودية": the article merges with what comes before.
                    names.setdefault(name[2:], code)
    for name, code in _ALIASES.items():
        names.setdefault(name, code)
    return tuple(sorted(names.items(), key=lambda item: -len(item[0])))


def find_country(text: str, lang: str) -> str | None:
    """The ISO code of the first country the message names, or None."""
    cleaned = clean(text)
    found: list[tuple[int, int, str]] = []
    for name, code in _names(lang):
        at = mentions(cleaned, name)
        if at is None and lang == "ru" and len(name) >= 5 and " " not in name:
            # Russian declines names: "в Канаду", "во Францию".
            stem = re.search(rf"(?<!\w){re.escape(name[:-1])}\w{{0,2}}(?!\w)", cleaned)
            at = stem.start() if stem else None
        if at is not None:
            found.append((at, -len(name), code))
    for match in _CODES.finditer(text):
        found.append((len(cleaned), 0, _CODE_NAMES[match.group(1)]))
    return min(found)[2] if found else None


def country_name(code: str, lang: str) -> str:
    try:
        name = Locale.parse(lang).territories.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return str(name or Locale("en").territories.get(code) or code)
