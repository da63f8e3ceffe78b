"""What every multi-turn flow is made of: a step, and reading short answers.

A step is what the bot says next and the state it carries on to the shopper's next
message; short answers ("yes", "the second one", "too small", "L") are read with the
word lists of `data/replies/<lang>.json`, in the shopper's language and in English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from portside.agent.replies import Replies

# Scripts whose words are matched anywhere, not as whole words: Chinese, Japanese and
# Korean (written without spaces) and Arabic (articles and pronouns joined on).
JOINED = re.compile(r"[\u0600-\u06ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Step:
    text: str
    flow: dict[str, Any] | None  # the state to carry on, None when the flow is over
    handoff: str | None = None
    action: str | None = None  # what the participant must do before saying `text`
    verified: str | None = None  # the order the shopper proved theirs in this turn
    # What the action needs: the case to open, the address to change to.
    payload: dict[str, Any] | None = None


def clean(text: str) -> str:
    """Lowercase, no punctuation, single spaces: as word lists are written ("don't"
    -> "don t", "d'accord" -> "d accord")."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def said(replies: Replies, lang: str, text: str, group: str) -> tuple[str, frozenset[str]]:
    """The message cleaned, and the group's words in the shopper's language and English."""
    return clean(text), replies.words(lang, group) | replies.words("en", group)


def mentions(cleaned: str, word: str) -> int | None:
    """Where `word` stands in the cleaned message, or None. Words of most scripts
    match whole words; Chinese, Japanese and Korean words, and Arabic ones (which take
    their articles and pronouns joined on), match anywhere."""
    if not word:
        return None
    if JOINED.search(word):
        found = cleaned.find(word)
        return found if found >= 0 else None
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", cleaned)
    return match.start() if match else None


def first_choice(replies: Replies, lang: str, text: str, group: str) -> str | None:
    """The choice of a group of word lists (`{"refund": [...], "exchange": [...]}`)
    that the message names first; None if it names none."""
    cleaned = clean(text)
    best: tuple[int, str] | None = None
    for choice, words in replies.choices(lang, group).items():
        for word in words:
            at = mentions(cleaned, word)
            if at is not None and (best is None or at < best[0]):
                best = (at, choice)
    return best[1] if best else None


def yes_or_no(replies: Replies, lang: str, text: str) -> bool | None:
    for answer, group in ((True, "yes_words"), (False, "no_words")):
        cleaned, words = said(replies, lang, text, group)
        if cleaned in words or any(cleaned.startswith(f"{word} ") for word in words):
            return answer
    return None


def wants_to_stop(replies: Replies, lang: str, text: str) -> bool:
    cleaned, words = said(replies, lang, text, "cancel_words")
    if cleaned in words:
        return True
    # "ok never mind", "no thanks :)" but not a whole sentence that starts with "cancel".
    return len(cleaned.split()) <= 3 and any(
        cleaned.startswith(f"{word} ") or cleaned.endswith(f" {word}") for word in words
    )


# An order on its way: shipped and not yet delivered.
MOVING = ("shipped", "in_transit", "out_for_delivery")
# The handoff of a change to an order the store's shop keeps (Shopify's, or another
# shop's by webhook): the bot does not change its copy; a person changes the order in
# the shop.
SHOP_CHANGE = "order_change_needs_person"


def shop_change_step(replies: Replies, lang: str, number: str) -> Step:
    """The shopper proved the order theirs and wants it changed; the shop owns it."""
    text = replies.say(lang, "order_change_needs_person", order=number)
    return Step(text, None, SHOP_CHANGE, verified=number)


def day_text(iso: str, lang: str) -> str:
    """A date as the shopper's language writes it in full."""
    return str(format_date(date.fromisoformat(iso), format="long", locale=lang))
