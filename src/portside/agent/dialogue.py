"""What the bot answers to one shopper message: a decision made from data, no I/O.

The bot hands the conversation to a person when the shopper asks for one, when it has
failed to understand twice in a row, or when the shopper is shouting; it asks one short
question when two intents are close; otherwise it answers from the catalogue and the
store's knowledge, and says honestly when a person is better placed to help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portside.agent.answers import ProductAnswers, knowledge_answer
from portside.agent.catalogue import OUT_OF_SCOPE
from portside.agent.intents import Prediction
from portside.agent.replies import Replies

# Below this probability the bot has not understood.
UNDERSTOOD = 0.30
# Two intents closer than this, neither sure, get a clarifying question.
CLOSE_CALL = 0.08
SURE = 0.55
PRODUCT_INTENTS = frozenset({"product_care", "product_material", "size_fit", "stock_availability"})


@dataclass(frozen=True)
class Turn:
    text: str
    lang: str
    prediction: Prediction
    store_name: str
    store_language: str
    product: dict[str, Any] | None = None
    knowledge: list[dict[str, Any]] = field(default_factory=list)
    # Replies in a row, just before this turn, in which the bot did not understand.
    misunderstood_before: int = 0


@dataclass(frozen=True)
class Reply:
    text: str
    intent: str
    understood: bool
    handoff: str | None = None  # the reason, when the reply hands the conversation over


class Dialogue:
    def __init__(self, replies: Replies, products: ProductAnswers) -> None:
        self.replies = replies
        self.products = products

    def reply(self, turn: Turn) -> Reply:
        lang = self.replies.speaks(turn.lang)
        say = self.replies.say
        guess = turn.prediction
        if guess.intent == "human_agent" and guess.confidence >= UNDERSTOOD:
            return Reply(say(lang, "handoff"), "human_agent", True, "asked_for_person")
        if is_shouting(turn.text):
            return Reply(say(lang, "handoff"), guess.intent, True, "frustration")
        if guess.confidence < UNDERSTOOD:
            if turn.misunderstood_before >= 1:
                text = say(lang, "handoff_after_failures")
                return Reply(text, guess.intent, False, "not_understood")
            return Reply(say(lang, "not_understood"), guess.intent, False)
        if (
            guess.confidence < SURE
            and guess.confidence - guess.runner_up_confidence < CLOSE_CALL
            and OUT_OF_SCOPE not in (guess.intent, guess.runner_up)
        ):
            text = say(
                lang,
                "clarify",
                first=self.replies.topic(lang, guess.intent),
                second=self.replies.topic(lang, guess.runner_up),
            )
            return Reply(text, guess.intent, True)
        return Reply(self._answer(turn, lang, guess.intent), guess.intent, True)

    def _answer(self, turn: Turn, lang: str, intent: str) -> str:
        say = self.replies.say
        if intent == "greeting":
            return say(lang, "greeting", store=turn.store_name)
        if intent == "thanks_goodbye":
            return say(lang, "thanks_goodbye")
        if intent == OUT_OF_SCOPE:
            return say(lang, "out_of_scope", store=turn.store_name)
        if intent in PRODUCT_INTENTS:
            if turn.product is None:
                return say(lang, "which_product")
            answer = {
                "product_care": self.products.care,
                "product_material": self.products.materials,
                "size_fit": self.products.sizes,
                "stock_availability": self.products.stock,
            }[intent]
            return answer(turn.product, lang)
        known = knowledge_answer(self.replies, turn.knowledge, intent, lang, turn.store_language)
        if known is not None:
            return known
        return say(lang, "person_can_help", topic=self.replies.topic(lang, intent))


def is_shouting(text: str) -> bool:
    """ALL CAPS, in a script that has capitals, over more than a few letters."""
    letters = [char for char in text if char.isalpha() and (char.isupper() or char.islower())]
    return len(letters) >= 12 and all(char.isupper() for char in letters)
