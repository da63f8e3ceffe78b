"""Multi-turn flows: the bot asks for what it needs, one question at a time.

A flow's state rides on the bot's own messages (`data.bot.flow`), so any node picks it up
from the log: nothing lives in memory between turns. The order flows ask for the order
number, then for proof that the order is the shopper's (the email address or the
postcode it was placed with), and only then say anything about it; two wrong proofs and
a person takes over. Order status then tells where the order is; cancelling checks that
it has not shipped and asks for an explicit yes before anything is done; a return or
exchange (`returns.py`) and a change of address (`address.py`) go on from the proof.
An order the store's shop sent (Shopify, or another shop by webhook) is the shop's to
change: cancelling it, or sending it elsewhere, goes to a person, who does it there.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from portside.agent.address import ADDRESS, address_step, start_address
from portside.agent.replies import Replies
from portside.agent.returns import RETURN, return_step, start_return
from portside.agent.steps import MOVING, Step, day_text, shop_change_step, wants_to_stop, yes_or_no
from portside.commerce.orders import kept_by_shop

ORDER_STATUS = "order_status"
CANCEL_ORDER = "cancel_order"
ORDER_FLOWS = frozenset({ORDER_STATUS, CANCEL_ORDER, RETURN, ADDRESS})
# The flows whose later steps read the shopper's answers, not their intent.
ANSWERED_FLOWS = frozenset({RETURN, ADDRESS})
__all__ = [
    "ADDRESS",
    "ANSWERED_FLOWS",
    "ORDER_FLOWS",
    "RETURN",
    "Step",
    "order_step",
    "proves_ownership",
    "wants_to_stop",
    "yes_or_no",
]
# Wrong proofs of ownership before a person takes over.
MAX_PROOFS = 2
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def order_step(
    replies: Replies,
    lang: str,
    text: str,
    state: dict[str, Any],
    number: str | None,
    order: dict[str, Any] | None,
    proven: frozenset[str] = frozenset(),
    products: dict[str, dict[str, Any]] | None = None,
    today: date | None = None,
) -> Step:
    """The next step of an order flow (`state["name"]`: order status, cancelling, a
    return or exchange, a change of address). `number` is the order number this turn
    names (in the message, or carried in `state`), `order` the store's order of that
    number (None if there is none); `proven` the orders the shopper already proved
    theirs in this conversation; `products` the catalogue's products of the order's
    items, by slug; `today` the store's date (for the returns window)."""
    name = state["name"]
    if number is None:
        return Step(replies.say(lang, "ask_order_number"), {"name": name})
    if order is None:
        return Step(replies.say(lang, "order_not_found", order=number), {"name": name})
    verified = state.get("order") == number and state.get("verified") is True
    if not verified:
        if number not in proven and not proves_ownership(text, order):
            return _ask_proof(replies, lang, state, number)
        if name == ORDER_STATUS:
            return Step(status_text(replies, lang, order), None, verified=number)
        if name == RETURN:
            return start_return(replies, lang, order, products or {}, today, state)
        if name == ADDRESS:
            return start_address(replies, lang, order)
        return _offer_cancel(replies, lang, order)
    if name == RETURN:
        return return_step(replies, lang, text, state, order, products or {})
    if name == ADDRESS:
        return address_step(replies, lang, text, state)
    return _confirm_cancel(replies, lang, text, state, order)


def _ask_proof(replies: Replies, lang: str, state: dict[str, Any], number: str) -> Step:
    name = state["name"]
    if state.get("order") != number:
        return Step(
            replies.say(lang, "ask_verification", order=number),
            {"name": name, "order": number, "proofs": 0},
        )
    proofs = int(state.get("proofs", 0)) + 1
    if proofs >= MAX_PROOFS:
        return Step(replies.say(lang, "verification_failed_handoff"), None, "not_verified")
    return Step(
        replies.say(lang, "verification_failed", order=number),
        {"name": name, "order": number, "proofs": proofs},
    )


def _offer_cancel(replies: Replies, lang: str, order: dict[str, Any]) -> Step:
    number = order["number"]
    if order["status"] == "cancelled":
        return Step(replies.say(lang, "already_cancelled", order=number), None, verified=number)
    if order["status"] != "processing":
        text = replies.say(lang, "cannot_cancel_shipped", order=number)
        return Step(text, None, verified=number)
    if kept_by_shop(order):
        return shop_change_step(replies, lang, number)
    state = {"name": CANCEL_ORDER, "order": number, "verified": True}
    return Step(replies.say(lang, "confirm_cancel", order=number), state, verified=number)


def _confirm_cancel(
    replies: Replies, lang: str, text: str, state: dict[str, Any], order: dict[str, Any]
) -> Step:
    number = order["number"]
    answer = yes_or_no(replies, lang, text)
    if answer is True:
        # The participant cancels it, and says so only if that worked.
        return Step(replies.say(lang, "order_cancelled", order=number), None, action=CANCEL_ORDER)
    if answer is False:
        return Step(replies.say(lang, "cancel_kept", order=number), None)
    return Step(replies.say(lang, "yes_or_no", order=number), state)


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
    if order["status"] in MOVING and order.get("carrier") and order.get("tracking"):
        parts.append(
            replies.say(
                lang, "order_tracking", carrier=order["carrier"], tracking=order["tracking"]
            )
        )
    if order["status"] == "delivered" and order.get("delivered_on"):
        parts.append(
            replies.say(lang, "order_delivered_on", date=day_text(order["delivered_on"], lang))
        )
    elif order["status"] != "cancelled" and order.get("expected_on"):
        parts.append(replies.say(lang, "order_expected", date=day_text(order["expected_on"], lang)))
    return " ".join(parts)


def _squeeze(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()
