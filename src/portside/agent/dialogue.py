"""What the bot answers to one shopper message: a decision made from data, no I/O.

The bot hands the conversation to a person when the shopper asks for one, when it has
failed to understand twice in a row, or when the shopper is shouting; it asks one short
question when two intents are close; otherwise it answers from the catalogue and the
store's knowledge, and says honestly when a person is better placed to help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portside.agent.answers import ProductAnswers, knowledge_answer
from portside.agent.catalogue import OUT_OF_SCOPE
from portside.agent.flows import (
    ANSWERED_FLOWS,
    ORDER_FLOWS,
    ORDER_STATUS,
    order_step,
    wants_to_stop,
    yes_or_no,
)
from portside.agent.intents import Prediction
from portside.agent.replies import Replies
from portside.commerce.orders import find_order_number

# Below this probability the bot has not understood.
UNDERSTOOD = 0.30
# Two intents closer than this, neither sure, get a clarifying question.
CLOSE_CALL = 0.08
SURE = 0.55
# In a flow, a message this sure of another intent is a question on the side.
DETOUR = 0.70
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
    # The flow under way (from the bot's last reply), the order number this turn is
    # about, and the store's order of that number.
    flow: dict[str, Any] | None = None
    order_number: str | None = None
    order: dict[str, Any] | None = None
    # Orders the shopper proved theirs earlier in the conversation: not asked again.
    proven: frozenset[str] = frozenset()
    # The catalogue's products of the order's items, by slug (returns, exchanges).
    order_products: dict[str, dict[str, Any]] = field(default_factory=dict)
    today: date | None = None  # the store's date, for the returns window


@dataclass(frozen=True)
class Reply:
    text: str
    intent: str
    understood: bool
    handoff: str | None = None  # the reason, when the reply hands the conversation over
    flow: dict[str, Any] | None = None  # the flow to carry on to the next turn
    action: str | None = None  # what must be done before the reply is said
    verified: str | None = None  # the order the shopper proved theirs in this turn
    payload: dict[str, Any] | None = None  # what `action` needs (a case, an address)


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
        flow_name = (turn.flow or {}).get("name")
        in_flow = flow_name in ORDER_FLOWS
        # "yes cancel" answers the question of the cancel flow; it does not stop the flow.
        answering = (turn.flow or {}).get("verified") is True and (
            yes_or_no(self.replies, lang, turn.text) is not None
        )
        stopping = in_flow and guess.intent != "cancel_order" and not answering
        if stopping and wants_to_stop(self.replies, lang, turn.text):
            return Reply(say(lang, "flow_cancelled"), guess.intent, True)
        if in_flow and flow_name in ANSWERED_FLOWS and (turn.flow or {}).get("verified"):
            # "too small", "the second one", "L": answers, whatever they sound like.
            return self._order_flow(turn, lang, dict(turn.flow or {}), may_detour=False)
        sure = guess.confidence >= UNDERSTOOD
        starts = guess.intent in ORDER_FLOWS and sure and guess.intent != flow_name
        if starts and _gives_proof(turn):
            # "my postcode is 28013" may sound like an address: it answers the question.
            starts = False
        if starts:
            return self._order_flow(turn, lang, {"name": guess.intent}, may_detour=False)
        if in_flow:
            return self._order_flow(turn, lang, dict(turn.flow or {}), may_detour=True)
        if turn.order_number is not None:
            return self._order_flow(turn, lang, {"name": ORDER_STATUS}, may_detour=False)
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

    def _order_flow(
        self, turn: Turn, lang: str, state: dict[str, Any], *, may_detour: bool
    ) -> Reply:
        guess = turn.prediction
        # An order number, an email address or a postcode has digits or an @; a yes or
        # a no answers the question of the cancel flow.
        gave_something = any(char.isdigit() or char == "@" for char in turn.text)
        confirming = state.get("verified") is True
        if (
            may_detour
            and not gave_something
            and not confirming
            and guess.confidence >= DETOUR
            and guess.intent not in (OUT_OF_SCOPE, "greeting", *ORDER_FLOWS)
        ):
            # A question in the middle of the flow: answer it, then ask again.
            pending = (
                self.replies.say(lang, "ask_verification", order=state["order"])
                if state.get("order")
                else self.replies.say(lang, "ask_order_number")
            )
            answer = self._answer(turn, lang, guess.intent)
            return Reply(f"{answer}\n\n{pending}", guess.intent, True, flow=turn.flow)
        number = turn.order_number
        order = turn.order
        if state.get("order") and state["order"] != number and number is not None:
            state = {"name": state["name"]}  # another order than the one asked about
        step = order_step(
            self.replies,
            lang,
            turn.text,
            state,
            number,
            order,
            turn.proven,
            turn.order_products,
            turn.today,
        )
        return Reply(
            step.text,
            state["name"],
            True,
            step.handoff,
            flow=step.flow,
            action=step.action,
            verified=step.verified,
            payload=step.payload,
        )

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


def _gives_proof(turn: Turn) -> bool:
    """The message answers a flow that waits for the proof of an order: it has an email
    address or digits, and names no other order."""
    flow = turn.flow or {}
    if not flow.get("order") or flow.get("verified"):
        return False
    other = find_order_number(turn.text, bare=False)
    gave = any(char.isdigit() or char == "@" for char in turn.text)
    return gave and other in (None, flow["order"])


def is_shouting(text: str) -> bool:
    """ALL CAPS, in a script that has capitals, over more than a few letters."""
    letters = [char for char in text if char.isalpha() and (char.isupper() or char.islower())]
    return len(letters) >= 12 and all(char.isupper() for char in letters)
