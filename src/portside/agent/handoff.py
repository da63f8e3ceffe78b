"""The context packet a person gets with a handed-off conversation: no I/O.

Made from the conversation's events when the bot hands over (or when the shopper
pressed "talk to a person"): a short summary in English (the console's language), the
shopper's language, what they asked about, the orders they named and whether they
proved them, what the bot already tried, and how the shopper feels. The person reads
it first instead of scrolling the whole transcript.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from portside.agent.catalogue import OUT_OF_SCOPE
from portside.agent.dialogue import is_shouting
from portside.agent.replies import Replies
from portside.domain.conversations import ActorType, Event, EventType
from portside.domain.order_numbers import find_order_numbers

# Shopper messages of the summary's "last said", at most this long.
QUOTE_CHARS = 140
REASONS = {
    "asked_for_person": "the shopper asked for a person",
    "frustration": "the shopper sounded frustrated",
    "not_understood": "the bot did not understand twice in a row",
    "not_verified": "the shopper could not prove the order was theirs",
    "store_rule": "a store rule sends this to a person",
    "case_opened": "a case was opened for the team to review",
    "voice_not_transcribed": "a voice note could not be transcribed: listen to it",
    "return_window": "the return is outside the returns window",
    "order_change_needs_person": "the store's shop keeps the order: a person changes it there",
}
_NEGATIVE_INTENTS = frozenset({"complaint", "delivery_problem"})
_SMALL_TALK = frozenset({"greeting", "thanks_goodbye", "human_agent", OUT_OF_SCOPE})


@dataclass(frozen=True)
class Lexicon:
    """Words that show a shopper's mood, by language."""

    negative: dict[str, tuple[str, ...]]
    positive: dict[str, tuple[str, ...]]

    def count(self, text: str, lang: str | None, mood: str) -> int:
        words = self.negative if mood == "negative" else self.positive
        lowered = text.lower()
        found = 0
        for language in {lang or "en", "en"}:
            for word in words.get(language, ()):
                if _spaced(language):
                    found += bool(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered))
                else:
                    found += word in lowered
        return found


@cache
def default_lexicon() -> Lexicon:
    path = Path(str(resources.files("portside.agent") / "data" / "sentiment.json"))
    data = json.loads(path.read_text(encoding="utf-8"))
    return Lexicon(
        negative={lang: tuple(words["negative"]) for lang, words in data.items()},
        positive={lang: tuple(words["positive"]) for lang, words in data.items()},
    )


@dataclass(frozen=True)
class Current:
    """The turn being answered, whose reply is not in the events yet."""

    text: str
    intent: str
    understood: bool
    flow: dict[str, Any] | None = None
    verified: str | None = None  # the order the shopper proved theirs in this turn


def context_packet(
    replies: Replies,
    lexicon: Lexicon,
    events: Sequence[Event],
    *,
    reason: str,
    language: str | None,
    orders: dict[str, dict[str, Any] | None],
    current: Current | None = None,
    page: dict[str, Any] | None = None,
    country: str | None = None,
    timezone: str | None = None,
    case_id: int | None = None,
) -> dict[str, Any]:
    """The packet's data (docs/protocol.md, `conversation.handoff_context`). `orders`
    maps the order numbers named in the conversation to the store's order (None if the
    store has none of that number)."""
    said = [e for e in events if e.type is EventType.MESSAGE_CREATED]
    shopper = [str(e.data.get("text", "")) for e in said if e.actor.type is ActorType.VISITOR]
    bot = [_details(e) for e in said if e.actor.type is ActorType.BOT]
    if current is not None:
        shopper.append(current.text)
        bot.append(
            {
                "intent": current.intent,
                "understood": current.understood,
                "flow": current.flow,
                "verified_order": current.verified,
            }
        )
    intents = _asked_about(bot)
    verified = _verified(bot)
    listed = [
        {
            "number": number,
            "status": order.get("status") if order else None,
            "verified": number in verified,
        }
        for number, order in orders.items()
    ]
    sentiment = _sentiment(lexicon, shopper, [str(d.get("intent")) for d in bot], language, reason)
    return {
        "reason": reason,
        "summary": _summary(replies, language, intents, listed, reason, shopper),
        "language": language,
        "intent": intents[-1] if intents else None,
        "intents": intents,
        "orders": listed,
        "tried": _tried(replies, bot),
        "sentiment": sentiment,
        "page": page,
        "country": country,
        "timezone": timezone,
        "case_id": case_id,
    }


def named_orders(events: Iterable[Event], current_text: str | None = None) -> list[str]:
    """Order numbers the shopper wrote (as written: "#10231", "LP10231") or the bot's
    flows were about (the store's numbers), first named first."""
    numbers: list[str] = []
    texts: list[str] = []
    for event in events:
        if event.type is not EventType.MESSAGE_CREATED:
            continue
        if event.actor.type is ActorType.VISITOR:
            texts.append(str(event.data.get("text", "")))
        elif event.actor.type is ActorType.BOT:
            flow = _details(event).get("flow") or {}
            if flow.get("order"):
                numbers.append(str(flow["order"]))
    if current_text:
        texts.append(current_text)
    for text in texts:
        numbers.extend(find_order_numbers(text))
    return list(dict.fromkeys(numbers))


def _details(event: Event) -> dict[str, Any]:
    details = event.data.get("bot")
    return details if isinstance(details, dict) else {}


def _asked_about(bot: list[dict[str, Any]]) -> list[str]:
    intents: list[str] = []
    for details in bot:
        intent = details.get("intent")
        if not isinstance(intent, str) or not details.get("understood", True):
            continue
        if intent in _SMALL_TALK or intent in intents:
            continue
        intents.append(intent)
    return intents


def _verified(bot: list[dict[str, Any]]) -> set[str]:
    return {
        str(flow["order"])
        for details in bot
        if isinstance(flow := details.get("flow"), dict)
        and flow.get("verified")
        and flow.get("order")
    } | {str(number) for details in bot if isinstance(number := details.get("verified_order"), str)}


def _tried(replies: Replies, bot: list[dict[str, Any]]) -> list[str]:
    tried: list[str] = []
    for details in bot:
        flow = details.get("flow") if isinstance(details.get("flow"), dict) else None
        intent = str(details.get("intent") or "")
        if details.get("understood") is False:
            step = "could not understand the shopper"
        elif flow and flow.get("verified"):
            step = f"verified order {flow.get('order')} ({_topic(replies, flow.get('name'))})"
        elif flow and flow.get("order"):
            step = f"asked the shopper to prove order {flow['order']} is theirs"
        elif flow:
            step = f"asked for details ({_topic(replies, flow.get('name'))})"
        elif intent in ("greeting", "thanks_goodbye", "human_agent") or not intent:
            continue
        else:
            step = f"answered about {_topic(replies, intent)}"
        if not tried or tried[-1] != step:
            tried.append(step)
    return tried


def _topic(replies: Replies, intent: object) -> str:
    return replies.topic("en", str(intent)) if intent else "something"


def _sentiment(
    lexicon: Lexicon, shopper: list[str], intents: list[str], lang: str | None, reason: str
) -> str:
    negative = sum(lexicon.count(text, lang, "negative") for text in shopper)
    negative += sum(is_shouting(text) or "!!" in text or "?!" in text for text in shopper)
    negative += sum(intent in _NEGATIVE_INTENTS for intent in intents)
    negative += 2 if reason == "frustration" else 0
    # The same question asked again: the answers did not help.
    asked = [intent for intent in intents if intent not in _SMALL_TALK]
    negative += len(asked) - len(set(asked))
    positive = sum(lexicon.count(text, lang, "positive") for text in shopper[-3:])
    if negative > positive:
        return "negative"
    return "positive" if positive > negative else "neutral"


def _summary(
    replies: Replies,
    lang: str | None,
    intents: list[str],
    orders: list[dict[str, Any]],
    reason: str,
    shopper: list[str],
) -> str:
    who = "The shopper"
    if lang:
        who += f", writing in {replies.language_name('en', lang)},"
    parts = []
    if intents:
        topics = [replies.topic("en", intent) for intent in intents[-3:]]
        parts.append(f"{who} asked about {replies.join('en', topics)}")
    else:
        parts.append(f"{who} has not asked anything the bot recognised")
    if orders:
        named = [
            f"{o['number']} ({o['status'] or 'not found'}"
            f"{', verified' if o['verified'] else ', not verified'})"
            for o in orders
        ]
        parts.append(f"about order {replies.join('en', named)}")
    text = " ".join(parts) + f". Handed over because {REASONS.get(reason, reason)}."
    last = next((said for said in reversed(shopper) if said.strip()), None)
    if last:
        quoted = last.strip().replace("\n", " ")
        if len(quoted) > QUOTE_CHARS:
            quoted = quoted[: QUOTE_CHARS - 1] + "…"
        text += f' Last message: "{quoted}"'
    return text


def _spaced(lang: str) -> bool:
    """Languages whose words stand between spaces (a word list matches whole words)."""
    return lang not in ("zh", "ja", "ko", "ar")
