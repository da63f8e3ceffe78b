"""Photos in the return flow (agent/returns.py, over the dialogue): what a photo's vision
label says is the return's reason unless the shopper says why in words, the notes a photo
leaves survive the order number and the proof, and a shopper who sent a photo is not
asked for one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.intents import Prediction
from portside.agent.media import Heard, answers_reason, photo_intent, reason_shown
from portside.agent.replies import default_replies
from portside.agent.returns import note_photo
from portside.commerce.catalog import load_demo_catalog
from portside.commerce.orders import demo_orders
from portside.domain.order_numbers import find_order_refs, number_shapes, pick_order

TODAY = date(2026, 12, 4)
ORDERS = {o["number"]: o for o in demo_orders(TODAY)}
PRODUCTS = {p.slug: p.to_dict() for p in load_demo_catalog()}
REPLIES = default_replies()
UNSURE = Prediction("greeting", 0.2, "order_status", 0.1)


@pytest.fixture
def dialogue() -> Dialogue:
    return Dialogue(REPLIES, ProductAnswers(REPLIES, default_glossary()))


def say(
    dialogue: Dialogue,
    text: str,
    *,
    flow: dict[str, Any] | None = None,
    photo_reason: str | None = None,
    photos: int = 0,
    lang: str = "en",
    orders: dict[str, dict[str, Any]] | None = None,
) -> Reply:
    """A shopper's turn, as the participant passes it: with a photo, its reason."""
    known = orders or ORDERS
    pending = (flow or {}).get("order")
    refs = find_order_refs(text, bare=not pending, asked=flow is not None)
    number = pick_order(refs, number_shapes(known), known)[0] or pending
    return dialogue.reply(
        Turn(
            text=text,
            lang=lang,
            prediction=Prediction("return_request", 1.0 if photos else 0.9, "refund_request", 0),
            store_name="Lotus & Pine",
            store_language="en",
            flow=flow,
            order_number=number,
            order=known.get(number) if number else None,
            order_products=PRODUCTS,
            today=TODAY,
            photos=photos,
            photo_reason=photo_reason,
        )
    )


def test_a_photo_sent_before_the_proof_gives_the_reason_and_spares_the_question(
    dialogue: Dialogue,
) -> None:
    # The photo starts the flow ("it arrived like this", seen as a damaged item).
    started = say(dialogue, "it arrived like this", photos=1, photo_reason="damaged")
    assert started.text == REPLIES.say("en", "ask_order_number")
    assert started.flow is not None
    assert (started.flow["photo"], started.flow["photo_reason"]) == (True, "damaged")
    proof = say(dialogue, "LP10233", flow=started.flow)
    assert proof.flow is not None and proof.flow["photo_reason"] == "damaged"
    why = say(dialogue, "150-0001", flow=proof.flow)
    # Not asked why: the photo said it.
    assert why.text == REPLIES.phrase("en", "return_reason_from_photo", "damaged")
    assert why.verified == "LP10233"
    assert why.flow is not None and why.flow["step"] == "resolution"
    done = say(dialogue, "a refund please", flow=why.flow)
    assert done.payload is not None
    data = done.payload["data"]
    assert (data["reason"], data["reason_by"], data["words"]) == ("damaged", "photo", None)
    # A photo was sent: the bot does not ask for one.
    assert REPLIES.say("en", "return_photo") not in done.text


def test_a_photo_answers_why_while_the_flow_asks_it(dialogue: Dialogue) -> None:
    proof = say(dialogue, "quiero devolver la camisa del pedido #10233", lang="es")
    why = say(dialogue, "150-0001", flow=proof.flow, lang="es")
    assert why.flow is not None and why.flow["step"] == "reason"
    assert answers_reason(why.flow, "wrong_item")
    assert not answers_reason(why.flow, None)
    assert not answers_reason(proof.flow, "wrong_item")  # not asking why yet
    answered = say(dialogue, "", flow=why.flow, photos=1, photo_reason="wrong_item", lang="es")
    assert answered.text == REPLIES.phrase("es", "return_reason_from_photo", "wrong_item")
    done = say(dialogue, "prefiero el reembolso", flow=answered.flow, lang="es")
    assert done.payload is not None
    assert done.payload["data"]["reason"] == "wrong_item"
    assert REPLIES.say("es", "return_photo") not in done.text


def test_the_shoppers_words_win_over_the_photo(dialogue: Dialogue) -> None:
    proof = say(dialogue, "I want to return order LP10233")
    why = say(dialogue, "150-0001", flow=proof.flow)
    # The photo (kept by the participant while the flow asked for the proof) said damaged;
    # the shopper says it is too small.
    flow = note_photo(dict(why.flow or {}), "damaged")
    answered = say(dialogue, "it's too small on me", flow=flow)
    assert answered.text == REPLIES.say("en", "return_ask_resolution")
    done = say(dialogue, "a refund", flow=answered.flow)
    assert done.payload is not None
    data = done.payload["data"]
    assert (data["reason"], data["words"]) == ("too_small", "it's too small on me")
    assert "reason_by" not in data


def test_with_several_items_the_photo_answers_why_once_the_item_is_chosen(
    dialogue: Dialogue,
) -> None:
    orders = {**ORDERS, "LP10234": {**ORDERS["LP10234"], "status": "delivered"}}
    orders["LP10234"]["delivered_on"] = TODAY.isoformat()
    started = say(dialogue, "", photos=1, photo_reason="damaged", orders=orders)
    proof = say(dialogue, "#10234", flow=started.flow, orders=orders)
    which = say(dialogue, "200040", flow=proof.flow, orders=orders)
    assert which.flow is not None and which.flow["step"] == "item"
    answered = say(dialogue, "the shirt", flow=which.flow, orders=orders)
    assert answered.text == REPLIES.phrase("en", "return_reason_from_photo", "damaged")
    done = say(dialogue, "refund", flow=answered.flow, orders=orders)
    assert done.payload is not None
    data = done.payload["data"]
    assert data["items"][0]["slug"] == "washed-linen-shirt"
    # "the shirt" named the item; it is not the shopper's words about why.
    assert (data["reason"], data["words"]) == ("damaged", None)


def test_without_a_photo_a_damaged_item_is_still_asked_for_one(dialogue: Dialogue) -> None:
    proof = say(dialogue, "I want to return order LP10233")
    why = say(dialogue, "150-0001", flow=proof.flow)
    answered = say(dialogue, "it arrived torn", flow=why.flow)
    done = say(dialogue, "refund", flow=answered.flow)
    assert REPLIES.say("en", "return_photo") in done.text


def test_every_language_says_what_the_photo_shows() -> None:
    for lang in REPLIES.languages:
        for reason in ("damaged", "wrong_item"):
            text = REPLIES.phrase(lang, "return_reason_from_photo", reason)
            english = REPLIES.phrase("en", "return_reason_from_photo", reason)
            assert text and (lang == "en" or text != english), (lang, reason)


def test_a_payment_error_screenshot_is_about_the_payment_whatever_the_caption() -> None:
    screenshot = Heard("", photos=(3,), labels=("payment_error",))
    refund = Prediction("refund_request", 0.8, "payment_problem", 0.1)
    for caption, prediction in (
        ("", UNSURE),
        ("I want my money back", refund),
        ("deu errado", UNSURE),  # "it went wrong": a damage word in Portuguese
    ):
        got = photo_intent(REPLIES, "pt", screenshot, caption, prediction)
        assert (got.intent, got.confidence) == ("payment_problem", 1.0), caption
    # A caption sure of something else than a return still speaks for itself.
    status = Prediction("order_status", 0.9, "greeting", 0.05)
    assert photo_intent(REPLIES, "en", screenshot, "where is my order", status) == status
    assert reason_shown(screenshot) is None
    # With a photo of a damaged item too, it is a return.
    both = Heard("", photos=(3, 4), labels=("payment_error", "damaged_item"))
    assert photo_intent(REPLIES, "en", both, "", UNSURE).intent == "return_request"
    assert reason_shown(both) == "damaged"
