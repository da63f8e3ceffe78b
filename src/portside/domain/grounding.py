"""What a machine-made text must keep of the text it stands for.

An LLM that rewords the bot's draft (agent/phrasing.py) or a translator that carries an
agent's reply into the shopper's language (ai/translation.py, ai/argos.py) may get a
price, an order number or a link wrong, answer the message instead of translating it,
or hand the text back untranslated. Numbers are compared as digits, so "12,50 €" and
"€12.50" are the same number; links, email addresses and order numbers must come back
exactly as written; and the text must be written in the target language's script.
"""

from __future__ import annotations

import re
import unicodedata

_NUMBER = re.compile(r"\d+(?:[-./,:]\d+)*")


def numbers(text: str) -> set[str]:
    """The numbers in `text`, as digits: "€12.50" and "12,50 €" are both "1250", "03" is
    "3", full-width "２０" is "20". A date or a time stays whole ("2026-03-05" is
    "2026-3-5"), so its parts do not pass for other numbers ("only 3 left")."""
    found = set()
    for match in _NUMBER.finditer(text):
        token = match.group()
        groups = [
            "".join(str(unicodedata.decimal(char)) for char in group).lstrip("0") or "0"
            for group in re.split(r"\D", token)
        ]
        found.add("-".join(groups) if re.search(r"[-/:]", token) else "".join(groups))
    return found


_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”", "„": "“", "「": "」", "『": "』", "«": "»"}


def unquote(text: str) -> str:
    """A model's answer without the quotes it sometimes wraps around the whole text."""
    text = text.strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


# Tokens a translation must carry over character for character. Trailing punctuation
# belongs to the sentence, which a translation may end differently.
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”「」（）]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# "LP-10023", "LP10023", "#1234", "JD014600003828": letters then digits, or "#" and digits.
# Not after a Latin letter or digit (part of a longer word), but after Han characters
# ("订单LP-10023") it is still an order number.
_ORDER = re.compile(r"(?<![A-Za-z0-9#-])(?:#\d{3,}|[A-Z]{1,5}-?\d{3,}[A-Z0-9-]*)")
_TRAILING = ".,;:!?)]}>。，、！？）"

# Growth a translation may show: Chinese or Japanese into a European language takes
# several times the characters. Far past this, the model is chatting, not translating.
MAX_GROWTH = 6
MAX_GROWTH_EXTRA = 200

# The script each language is written in, for the languages whose script tells.
_SCRIPTS = {
    "zh": ("han",),
    "ja": ("kana", "han"),
    "ko": ("hangul",),
    "ar": ("arabic",),
    "fa": ("arabic",),
    "ru": ("cyrillic",),
    "uk": ("cyrillic",),
    "bg": ("cyrillic",),
}
_LATIN = frozenset(
    [
        "en",
        "de",
        "fr",
        "es",
        "pt",
        "it",
        "nl",
        "pl",
        "sv",
        "da",
        "nb",
        "no",
        "fi",
        "cs",
        "sk",
        "sl",
        "hr",
        "ro",
        "hu",
        "tr",
        "id",
        "ms",
        "vi",
        "ca",
        "et",
        "lv",
        "lt",
    ]
)


def kept_tokens(text: str) -> list[str]:
    """The links, email addresses and order numbers in `text`, each once."""
    found = [m.group().rstrip(_TRAILING) for m in _LINK.finditer(text)]
    found += [m.group() for m in _EMAIL.finditer(text)]
    without_links = _EMAIL.sub(" ", _LINK.sub(" ", text))
    found += [m.group().rstrip("-") for m in _ORDER.finditer(without_links)]
    return list(dict.fromkeys(token for token in found if token))


def translation_problem(source: str, translation: str, target: str) -> str | None:
    """Why `translation` cannot stand for `source` in the language `target`, or None.

    Refused: an empty text, one far longer than the source, a number, link, email
    address or order number lost or changed, a number that is not in the source (small
    counts excepted: "两个" may become "2"), a text not written in the target
    language's script (an answer in the wrong language), or the source handed back.
    """
    if not translation.strip():
        return "the translation is empty"
    if len(translation) > MAX_GROWTH * len(source) + MAX_GROWTH_EXTRA:
        return "the translation is far longer than the message"
    lost = [token for token in kept_tokens(source) if token not in translation]
    if lost:
        return f"the translation lost or changed {', '.join(lost)}"
    had, has = numbers(source), numbers(translation)
    dropped = sorted(had - has)
    if dropped:
        return f"the translation lost the number {', '.join(dropped)}"
    added = sorted(n for n in has - had if len(n) > 1)
    if added:
        return f"the translation has a number the message does not: {', '.join(added)}"
    if not _in_script(source, translation, target):
        return "the translation is not written in the target language"
    if _untranslated(source, translation):
        return "the translation is the message itself, untranslated"
    return None


def _untranslated(source: str, translation: str) -> bool:
    """The same words back (German for English is still Latin letters): a message of a
    few words or more cannot be the same in two languages."""
    same = " ".join(source.casefold().split()) == " ".join(translation.casefold().split())
    words = [word for word in _words(source).split() if any(c.isalpha() for c in word)]
    return same and (len(words) >= 3 or sum(_letters(_words(source)).values()) >= 12)


def _in_script(source: str, translation: str, target: str) -> bool:
    """Whether `translation` is in `target`'s script, when the source has words at all
    and the script tells (a reply of "OK" or "LP-10023" is the same in any language)."""
    if sum(_letters(_words(source)).values()) < 2:
        return True
    letters = _letters(_words(translation))
    total = sum(letters.values())
    if target in _SCRIPTS:
        return any(letters[script] for script in _SCRIPTS[target])
    if target in _LATIN:
        # Latin letters mostly; a product name in another script may stay as it is.
        return total == 0 or letters["latin"] * 2 >= total
    return True


def _words(text: str) -> str:
    """`text` without its links, email addresses and order numbers: Latin letters in
    any language, they tell nothing of the language around them."""
    return _ORDER.sub(" ", _EMAIL.sub(" ", _LINK.sub(" ", text)))


def _letters(text: str) -> dict[str, int]:
    counts = dict.fromkeys(("han", "kana", "hangul", "arabic", "cyrillic", "latin", "other"), 0)
    for char in text:
        if not char.isalpha():
            continue
        code = ord(char)
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["hangul"] += 1
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
            counts["kana"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            counts["han"] += 1
        elif 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            counts["arabic"] += 1
        elif 0x0400 <= code <= 0x04FF:
            counts["cyrillic"] += 1
        elif unicodedata.name(char, "").startswith("LATIN"):
            counts["latin"] += 1
        else:
            counts["other"] += 1
    return counts
