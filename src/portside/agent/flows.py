"""Multi-turn flows: the bot asks for what it needs, one question at a time.

A flow's state rides on the bot's own messages (`data.bot.flow`), so any node picks it up
from the log: nothing lives in memory between turns. The order status flow asks for the
order number, then for proof that the order is the shopper's (the email address or the
postcode it was placed with), and only then says anything about it; two wrong proofs
and a person takes over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from portside.agent.replies import Replies

ORDER_STATUS = "order_status"
# Wrong proofs of ownership before a person takes over.
MAX_PROOFS = 2
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MOVING = ("shipped", "in_transit", "out_for_delivery")


@dataclass(frozen=True)
class Step:
    text: str
    flow: dict[str, Any] | None  # the state to carry on, None when the flow is over
    handoff: str | None = None


def wants_to_stop(replies: Replies, lang: str, text: str) -> bool:
    words = replies.words(lang, "cancel_words") | replies.words("en", "cancel_words")
    cleaned = " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    if cleaned in words:
        return True
    # "ok never mind", "no thanks :)" but not a whole sentence that starts with "cancel".
    return len(cleaned.split()) <= 3 and any(
        cleaned.startswith(f"{word} ") or cleaned.endswith(f" {word}") for word in words
    )


def order_status_step(
    replies: Replies,
    lang: str,
    text: str,
    state: dict[str, Any] | None,
    number: str | None,
    order: dict[str, Any] | None,
) -> Step:
    """The next step of the order status flow. `number` is the order number this turn
    names (in the message, or carried in `state`), `order` the store's order of that
    number (None if there is none)."""
    state = dict(state or {"name": ORDER_STATUS})
    if number is None:
        return Step(replies.say(lang, "ask_order_number"), state)
    if order is None:
        return Step(replies.say(lang, "order_not_found", order=number), {"name": ORDER_STATUS})
    if proves_ownership(text, order):
        return Step(status_text(replies, lang, order), None)
    asked = state.get("order") == number
    if not asked:
        return Step(
            replies.say(lang, "ask_verification", order=number),
            {"name": ORDER_STATUS, "order": number, "proofs": 0},
        )
    proofs = int(state.get("proofs", 0)) + 1
    if proofs >= MAX_PROOFS:
        return Step(replies.say(lang, "verification_failed_handoff"), None, "not_verified")
    return Step(
        replies.say(lang, "verification_failed", order=number),
        {"name": ORDER_STATUS, "order": number, "proofs": proofs},
    )


def proves_ownership(text: str, order: dict[str, Any]) -> bool:
    """The message gives the order's email address or its postcode."""
    emails = {found.lower() for found in _EMAIL.findall(text)}
    if str(order.get("email", "")).lower() in emails:
        return True
    postcode = _squeeze(str(order.get("postcode") or ""))
    return len(postcode) >= 3 and postcode in _squeeze(_EMAIL.sub(" ", text))


def status_text(replies: Replies, lang: str, order: dict[str, Any]) -> str:
    status = replies.phrase(lang, "status_names", order["status"])
    parts = [replies.say(lang, "order_status", order=order["number"], status=status)]
    if order["status"] in _MOVING and order.get("carrier") and order.get("tracking"):
        parts.append(
            replies.say(
                lang, "order_tracking", carrier=order["carrier"], tracking=order["tracking"]
            )
        )
    if order["status"] == "delivered" and order.get("delivered_on"):
        parts.append(
            replies.say(lang, "order_delivered_on", date=_date(order["delivered_on"], lang))
        )
    elif order["status"] != "cancelled" and order.get("expected_on"):
        parts.append(replies.say(lang, "order_expected", date=_date(order["expected_on"], lang)))
    return " ".join(parts)


def _date(iso: str, lang: str) -> str:
    return str(format_date(date.fromisoformat(iso), format="long", locale=lang))


def _squeeze(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()
