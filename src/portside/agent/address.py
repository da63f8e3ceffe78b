"""The change of delivery address flow, once the shopper has proved the order theirs.

Only an order still being prepared can go to another address. The bot asks for the new
address in one message, reads it back, and changes it only after an explicit yes; the
participant checks again, in the same transaction as the change, that the order has
not shipped meanwhile (`services/bot.py`). An order the store's shop sent is the
shop's to change: a person takes the request.
"""

from __future__ import annotations

import re
from typing import Any

from portside.agent.replies import Replies
from portside.agent.steps import MOVING, Step, shop_change_step, yes_or_no
from portside.commerce.orders import kept_by_shop

ADDRESS = "shipping_address"
CHANGE_ADDRESS = "change_address"
# What a whole address takes at least, and at most.
MIN_CHARS = 10
MAX_CHARS = 300


def start_address(replies: Replies, lang: str, order: dict[str, Any]) -> Step:
    number = order["number"]
    status = order["status"]
    if status == "processing" and kept_by_shop(order):
        return shop_change_step(replies, lang, number)
    if status == "processing":
        state = {"name": ADDRESS, "order": number, "verified": True, "step": "address"}
        return Step(replies.say(lang, "address_ask", order=number), state, verified=number)
    if status == "cancelled":
        return Step(replies.say(lang, "already_cancelled", order=number), None, verified=number)
    if status in MOVING and order.get("carrier") and order.get("tracking"):
        text = replies.say(
            lang,
            "address_too_late_moving",
            order=number,
            carrier=str(order["carrier"]),
            tracking=str(order["tracking"]),
        )
        return Step(text, None, verified=number)
    return Step(replies.say(lang, "address_too_late", order=number), None, verified=number)


def address_step(replies: Replies, lang: str, text: str, state: dict[str, Any]) -> Step:
    number = str(state["order"])
    if state.get("step") == "address":
        address = read_address(text)
        if address is None:
            return Step(replies.say(lang, "address_unclear"), state)
        confirm = {**state, "step": "confirm", "address": address}
        return Step(replies.say(lang, "address_confirm", order=number, address=address), confirm)
    answer = yes_or_no(replies, lang, text)
    if answer is True:
        address = str(state["address"])
        text_out = replies.say(lang, "address_changed", order=number, address=address)
        return Step(text_out, None, action=CHANGE_ADDRESS, payload={"address": address})
    if answer is False:
        return Step(replies.say(lang, "address_kept", order=number), None)
    return Step(replies.say(lang, "address_yes_or_no", order=number), state)


def read_address(text: str) -> str | None:
    """The address as the shopper wrote it, tidied, if it looks like a whole one: long
    enough, with a number (a house number or a postcode) and more than one part."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    address = "\n".join(line for line in lines if line)
    if not MIN_CHARS <= len(address) <= MAX_CHARS:
        return None
    if not re.search(r"\d", address):
        return None
    parts = re.split(r"[\s,，、\n]+", address)
    spaced = len([p for p in parts if p]) >= 3
    # Chinese, Japanese and Korean addresses are written without spaces.
    unspaced = bool(re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{4,}", address))
    return address if spaced or unspaced else None
