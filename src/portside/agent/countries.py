"""Which country a shopper names ("do you ship to Canada?", "¿y a México?", "寄到日本"):
country names from Babel in the shopper's language and in English, and a few everyday
names Babel does not give ("USA", "UK", "the States")."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale, UnknownLocaleError

from portside.agent.steps import JOINED, clean
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
    words, joined = _matchers(lang)
    found: list[tuple[int, int, str]] = [
        (match.start(), -len(match.group(0)), words[match.group(0)])
        for match in _pattern(lang).finditer(cleaned)
    ]
    for name, code in joined:
        at = cleaned.find(name)
        if at >= 0:
            found.append((at, -len(name), code))
    if lang == "ru" and not found:
        # Russian declines names: "в Канаду", "во Францию".
        for match in _russian_stems().finditer(cleaned):
            found.append((match.start(), -len(match.group(0)), _russian_codes()[match.group(1)]))
    for match in _CODES.finditer(text):
        found.append((len(cleaned), 0, _CODE_NAMES[match.group(1)]))
    return min(found)[2] if found else None


@cache
def _matchers(lang: str) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Names matched as whole words (by name), and names matched anywhere (Chinese,
    Japanese, Korean, Arabic: see `steps.mentions`)."""
    words: dict[str, str] = {}
    joined: list[tuple[str, str]] = []
    for name, code in _names(lang):
        if JOINED.search(name):
            joined.append((name, code))
        else:
            words.setdefault(name, code)
    return words, tuple(joined)


@cache
def _pattern(lang: str) -> re.Pattern[str]:
    """One pattern for all the language's whole-word names, longest first."""
    names = sorted(_matchers(lang)[0], key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, names))})(?!\w)")


@cache
def _russian_codes() -> dict[str, str]:
    """Russian names by stem (the name without its last letter), one word long."""
    return {name[:-1]: code for name, code in _names("ru") if len(name) >= 5 and " " not in name}


@cache
def _russian_stems() -> re.Pattern[str]:
    stems = sorted(_russian_codes(), key=len, reverse=True)
    return re.compile(rf"(?<!\w)({'|'.join(map(re.escape, stems))})\w{{0,2}}(?!\w)")


def country_name(code: str, lang: str) -> str:
    try:
        name = Locale.parse(lang).territories.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return str(name or Locale("en").territories.get(code) or code)
