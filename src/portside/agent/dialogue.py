"""What the bot answers to one shopper message: a decision made from data, no I/O.

The bot hands the conversation to a person when the shopper asks for one, when it has
failed to understand twice in a row, or when the shopper is shouting; it asks one short
question when two intents are close; otherwise it answers from the catalogue and the
store's knowledge, and says honestly when a person is better placed to help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from portside.agent.answers import ProductAnswers, knowledge_answer, knowledge_source
from portside.agent.catalogue import OUT_OF_SCOPE
from portside.agent.colours import named_colours
from portside.agent.countries import find_country
from portside.agent.destinations import COUNTRY_INTENTS, destination_answer
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
from portside.agent.returns import RETURN, note_photo, photo_notes
from portside.agent.sizing import SizeAdvice
from portside.commerce.shipping import Shipping

# Below this probability the bot has not understood.
UNDERSTOOD = 0.30
# Two intents closer than this, neither sure, get a clarifying question.
CLOSE_CALL = 0.08
SURE = 0.55
# In a flow, a message this sure of another intent is a question on the side.
DETOUR = 0.70
# "And to Canada?": a follow-up is this short.
FOLLOW_UP_WORDS = 5
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
    # The store's shipping zones, the shopper's country (from their connection), and
    # what the bot's last reply was about (for "and to Canada?").
    shipping: Shipping | None = None
    country: str | None = None
    last_intent: str | None = None
    # The store's rule: a refund asked for an order above this amount goes to a person.
    refund_above: Decimal | None = None
    # Photos sent with this turn, and the return reason their vision label shows
    # (agent/media.py): a return flow keeps them as notes (agent/returns.py).
    photos: int = 0
    photo_reason: str | None = None


@dataclass(frozen=True)
class Foreign:
    """A knowledge answer the store has only in another language than the shopper's:
    `said` (its `text`, in `language`, and the note saying so) stands in the reply."""

    text: str
    language: str
    said: str


@dataclass(frozen=True)
class Reply:
    text: str
    intent: str
    understood: bool
    handoff: str | None = None  # the reason, when the reply hands the conversation over
    flow: dict[str, Any] | None = None  # the flow to carry on to the next turn
    action: str | None = None  # what must be done before the reply is said
    foreign: Foreign | None = None  # a part in another language, which may be translated
    verified: str | None = None  # the order the shopper proved theirs in this turn
    payload: dict[str, Any] | None = None  # what `action` needs (a case, an address)


class Dialogue:
    def __init__(self, replies: Replies, products: ProductAnswers) -> None:
        self.replies = replies
        self.products = products
        self.sizing = SizeAdvice(
            replies,
            products.name,
            lambda key, lang: products.glossary.word("dimensions", key, lang),
        )

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
        if self._over_refund_limit(turn):
            return Reply(say(lang, "handoff_store_rule"), guess.intent, True, "store_rule")
        if turn.order_number is not None:
            return self._order_flow(turn, lang, {"name": ORDER_STATUS}, may_detour=False)
        follow_up = (
            self._country_follow_up(turn, lang)
            or self._size_follow_up(turn, lang)
            or self._stock_follow_up(turn, lang)
        )
        if follow_up is not None:
            return follow_up
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
        answer = self._answer(turn, lang, guess.intent)
        return Reply(answer, guess.intent, True, foreign=self._foreign(turn, lang, guess.intent))

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
            foreign = self._foreign(turn, lang, guess.intent)
            return Reply(
                f"{answer}\n\n{pending}", guess.intent, True, flow=turn.flow, foreign=foreign
            )
        number = turn.order_number
        order = turn.order
        if state.get("order") and state["order"] != number and number is not None:
            # Another order than the one asked about (the photos sent stay noted).
            state = {"name": state["name"], **photo_notes(state)}
        if state["name"] == RETURN and turn.photos:
            state = note_photo(state, turn.photo_reason)
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
        flow = step.flow
        if flow is not None and flow.get("name") == RETURN:
            # Asking for the order number or the proof, the photos stay noted.
            flow = {**photo_notes(state), **flow}
        return Reply(
            step.text,
            state["name"],
            True,
            step.handoff,
            flow=flow,
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
            if intent == "size_fit":
                return self._size(turn, lang)
            if intent == "stock_availability":
                return self._stock(turn, lang)
            answer = {
                "product_care": self.products.care,
                "product_material": self.products.materials,
                "size_fit": self.products.sizes,
                "stock_availability": self.products.stock,
            }[intent]
            return answer(turn.product, lang)
        destination = self._destination(turn, lang, intent)
        if destination is not None:
            return destination
        known = knowledge_answer(self.replies, turn.knowledge, intent, lang, turn.store_language)
        if known is not None:
            return known
        return say(lang, "person_can_help", topic=self.replies.topic(lang, intent))

    def _size(self, turn: Turn, lang: str) -> str:
        """Advice when the shopper gave a measurement or their usual size; else the
        sizes and the chart, and what the bot needs to advise."""
        assert turn.product is not None
        advice = self.sizing.answer(turn.product, lang, turn.text)
        if advice is not None:
            return advice
        sizes = self.products.sizes(turn.product, lang)
        if turn.product.get("size_chart"):
            return f"{sizes} {self.replies.say(lang, 'size_ask_measure')}"
        return sizes

    def _stock(self, turn: Turn, lang: str) -> str:
        """Stock of the colours the shopper names, else of every colour."""
        assert turn.product is not None
        colours, missing = named_colours(self.products.glossary, turn.product, turn.text, lang)
        if missing is not None:
            offered = dict.fromkeys(
                self.products.glossary.word("colors", str(v["color"]), lang)
                for v in turn.product["variants"]
            )
            return self.replies.say(
                lang,
                "stock_no_color",
                product=self.products.name(turn.product, lang),
                color=missing,
                colors=self.replies.join(lang, list(offered)),
            )
        if colours:
            variants = [v for v in turn.product["variants"] if v["color"] in colours]
            if all(v["stock"] <= 0 for v in variants):
                # Sold out in that colour, not in every colour.
                labels = [self.products.glossary.word("colors", c, lang) for c in colours]
                return self.replies.say(
                    lang,
                    "stock_out",
                    product=self.products.name(turn.product, lang),
                    options=self.replies.join(lang, labels),
                )
            return self.products.stock({**turn.product, "variants": variants}, lang)
        return self.products.stock(turn.product, lang)

    def _stock_follow_up(self, turn: Turn, lang: str) -> Reply | None:
        """ "And the white one?" right after a stock answer."""
        if turn.last_intent != "stock_availability" or turn.product is None:
            return None
        if len(turn.text.split()) > FOLLOW_UP_WORDS or len(turn.text) > 40:
            return None
        colours, missing = named_colours(self.products.glossary, turn.product, turn.text, lang)
        if not colours and missing is None:
            return None
        return Reply(self._stock(turn, lang), "stock_availability", True)

    def _size_follow_up(self, turn: Turn, lang: str) -> Reply | None:
        """ "96 cm", "usually an M" right after a sizing answer: advice for it."""
        if turn.last_intent != "size_fit" or turn.product is None:
            return None
        if len(turn.text.split()) > FOLLOW_UP_WORDS * 2:
            return None
        advice = self.sizing.answer(turn.product, lang, turn.text, expected=True)
        return Reply(advice, "size_fit", True) if advice is not None else None

    def _over_refund_limit(self, turn: Turn) -> bool:
        """A refund asked for an order whose total is above the store's limit."""
        guess = turn.prediction
        if guess.intent != "refund_request" or guess.confidence < UNDERSTOOD:
            return False
        if turn.refund_above is None or turn.order is None:
            return False
        try:
            total = Decimal(str(turn.order.get("total")))
        except (InvalidOperation, ValueError):
            return False
        return total.is_finite() and total > turn.refund_above

    def _destination(self, turn: Turn, lang: str, intent: str) -> str | None:
        """Shipping or customs for the country named (else the shopper's own), from the
        store's zones; None when the store's knowledge should answer instead."""
        if intent not in COUNTRY_INTENTS or turn.shipping is None:
            return None
        named = find_country(turn.text, lang)
        country = named or turn.country
        if country is None:
            return None
        return destination_answer(
            self.replies, lang, intent, turn.shipping, country, named=named is not None
        )

    def _country_follow_up(self, turn: Turn, lang: str) -> Reply | None:
        """ "And to Canada?" right after a shipping or customs answer: the same question
        for another country, whatever the classifier makes of three words."""
        if turn.last_intent not in COUNTRY_INTENTS or turn.shipping is None:
            return None
        guess = turn.prediction
        intent = guess.intent if guess.intent in COUNTRY_INTENTS else turn.last_intent
        short = len(turn.text.split()) <= FOLLOW_UP_WORDS and len(turn.text) <= 40
        if intent != guess.intent and not short:
            return None
        named = find_country(turn.text, lang)
        if named is None:
            return None
        text = destination_answer(self.replies, lang, intent, turn.shipping, named, named=True)
        return Reply(text, intent, True) if text is not None else None

    def _foreign(self, turn: Turn, lang: str, intent: str) -> Foreign | None:
        """The knowledge `_answer` gave in another language, if it did."""
        if intent in ("greeting", "thanks_goodbye", OUT_OF_SCOPE) or intent in PRODUCT_INTENTS:
            return None
        if self._destination(turn, lang, intent) is not None:
            return None  # answered from the store's zones, in the shopper's language
        found = knowledge_source(turn.knowledge, intent, lang, turn.store_language)
        if found is None or found[1] == lang:
            return None
        said = knowledge_answer(self.replies, turn.knowledge, intent, lang, turn.store_language)
        return Foreign(found[0], found[1], str(said))


def _gives_proof(turn: Turn) -> bool:
    """The message answers a flow that waits for the proof of an order: it has an email
    address or digits, and names no other order (the turn's order number is the
    flow's, or none)."""
    flow = turn.flow or {}
    if not flow.get("order") or flow.get("verified"):
        return False
    gave = any(char.isdigit() or char == "@" for char in turn.text)
    return gave and turn.order_number in (None, flow["order"])


def is_shouting(text: str) -> bool:
    """ALL CAPS, in a script that has capitals, over more than a few letters."""
    letters = [char for char in text if char.isalpha() and (char.isupper() or char.islower())]
    return len(letters) >= 12 and all(char.isupper() for char in letters)
