"""Orders the store's shop sent (Shopify's "#1001"): found by the shop's numbers, shown
only after the proof, and changed by a person in the shop, never by the bot."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.intents import Prediction
from portside.agent.replies import default_replies
from portside.commerce.orders import demo_orders
from portside.domain.order_numbers import find_order_refs, number_shapes, pick_order

REPLIES = default_replies()
# An order as commerce/shopify.py reads Shopify's orders/create, as the bot gets it.
SHOPIFY = {
    "number": "#1001",
    "email": "ana.garcia@example.com",
    "postcode": "28013",
    "status": "processing",
    "carrier": None,
    "tracking": None,
    "placed_on": "2026-12-04",
    "shipped_on": None,
    "expected_on": None,
    "delivered_on": None,
    "items": [{"name": "Silk Charmeuse Slip Dress", "quantity": 1, "price": "199.00"}],
    "total": "199.00",
    "currency": "EUR",
    "ship_to": {"name": "Ana García", "city": "Madrid", "country": "ES"},
    "source": "shopify",
}
DEMO = {o["number"]: {**o, "source": "demo"} for o in demo_orders(date(2026, 12, 4))}


@pytest.fixture
def dialogue() -> Dialogue:
    return Dialogue(REPLIES, ProductAnswers(REPLIES, default_glossary()))


def say(
    dialogue: Dialogue,
    text: str,
    *,
    intent: str,
    flow: dict[str, Any] | None = None,
    lang: str = "en",
    orders: dict[str, dict[str, Any]] | None = None,
) -> Reply:
    known = orders if orders is not None else {"#1001": SHOPIFY, **DEMO}
    pending = (flow or {}).get("order")
    expecting = not pending and (
        flow is not None
        or intent in ("order_status", "cancel_order", "shipping_address", "return_request")
    )
    refs = find_order_refs(text, bare=expecting, asked=flow is not None)
    number = pick_order(refs, number_shapes(known), known)[0] or pending
    return dialogue.reply(
        Turn(
            text=text,
            lang=lang,
            prediction=Prediction(intent, 0.9, "delivery_problem", 0.05),
            store_name="Lumen & Pine",
            store_language="en",
            flow=flow,
            order_number=number,
            order=known.get(number) if number else None,
        )
    )


@pytest.mark.parametrize(
    ("lang", "ask", "proof"),
    [
        ("en", "where is order 1001?", "ana.garcia@example.com"),
        ("es", "¿dónde está mi pedido 1001?", "mi código postal es 28013"),
        ("zh", "我的订单1001到哪了", "邮编28013"),
        ("ja", "注文番号1001はどこですか", "郵便番号は28013です"),
        ("ru", "где мой заказ №1001?", "индекс 28013"),
    ],
)
def test_the_status_of_a_shop_order_by_its_shops_number_after_the_proof(
    dialogue: Dialogue, lang: str, ask: str, proof: str
) -> None:
    asked = say(dialogue, ask, intent="order_status", lang=lang)
    assert asked.text == REPLIES.say(lang, "ask_verification", order="#1001")
    assert asked.flow == {"name": "order_status", "order": "#1001", "proofs": 0}
    told = say(dialogue, proof, intent="account_edit", flow=asked.flow, lang=lang)
    assert told.verified == "#1001" and told.handoff is None
    assert REPLIES.phrase(lang, "status_names", "processing") in told.text


@pytest.mark.parametrize("lang", ["en", "de", "ko", "ar"])
def test_cancelling_a_shop_order_goes_to_a_person_after_the_proof(
    dialogue: Dialogue, lang: str
) -> None:
    asked = say(dialogue, "cancel #1001", intent="cancel_order", lang=lang)
    assert asked.text == REPLIES.say(lang, "ask_verification", order="#1001")
    assert asked.handoff is None
    handed = say(
        dialogue, "ana.garcia@example.com", intent="account_edit", flow=asked.flow, lang=lang
    )
    assert handed.handoff == "order_change_needs_person"
    assert handed.action is None  # nothing cancelled: the shop keeps the order
    assert handed.verified == "#1001" and handed.flow is None
    assert handed.text == REPLIES.say(lang, "order_change_needs_person", order="#1001")


def test_a_new_address_for_a_shop_order_goes_to_a_person(dialogue: Dialogue) -> None:
    asked = say(dialogue, "I need to change the address of order #1001", intent="shipping_address")
    handed = say(dialogue, "28013", intent="account_edit", flow=asked.flow, lang="es")
    assert (handed.handoff, handed.action) == ("order_change_needs_person", None)
    assert handed.text == REPLIES.say("es", "order_change_needs_person", order="#1001")


def test_a_shop_order_already_cancelled_or_shipped_is_said_so(dialogue: Dialogue) -> None:
    for status, key in (("cancelled", "already_cancelled"), ("shipped", "cannot_cancel_shipped")):
        orders = {"#1001": {**SHOPIFY, "status": status}}
        asked = say(dialogue, "cancel order #1001", intent="cancel_order", orders=orders)
        told = say(
            dialogue,
            "ana.garcia@example.com",
            intent="account_edit",
            flow=asked.flow,
            orders=orders,
        )
        assert told.handoff is None
        assert told.text == REPLIES.say("en", key, order="#1001")


def test_the_demo_stores_own_orders_are_still_cancelled_by_the_bot(dialogue: Dialogue) -> None:
    asked = say(dialogue, "cancel #10234", intent="cancel_order")
    offer = say(dialogue, "li.wei@example.com", intent="account_edit", flow=asked.flow)
    assert offer.handoff is None
    assert offer.text == REPLIES.say("en", "confirm_cancel", order="LP10234")


def test_every_language_says_a_person_will_make_the_change() -> None:
    for lang in REPLIES.languages:
        text = REPLIES.say(lang, "order_change_needs_person", order="#1001")
        assert "#1001" in text, lang
