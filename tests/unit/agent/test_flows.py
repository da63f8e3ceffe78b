"""The order status flow: number, proof of ownership, status; detours and stopping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.flows import proves_ownership
from portside.agent.intents import Prediction
from portside.agent.replies import default_replies
from portside.commerce.orders import demo_orders
from portside.domain.order_numbers import find_order_refs, number_shapes, pick_order

ORDERS = {o["number"]: o for o in demo_orders(date(2026, 11, 25))}
IN_TRANSIT = ORDERS["LP10231"]  # ana.garcia@example.com, 28013, DHL Express


@pytest.fixture
def dialogue() -> Dialogue:
    replies = default_replies()
    return Dialogue(replies, ProductAnswers(replies, default_glossary()))


def say(
    dialogue: Dialogue,
    text: str,
    *,
    intent: str = "order_status",
    confidence: float = 0.9,
    flow: dict[str, Any] | None = None,
    lang: str = "en",
    proven: frozenset[str] = frozenset(),
) -> Reply:
    pending = (flow or {}).get("order")
    expecting = not pending and (flow is not None or intent in ("order_status", "cancel_order"))
    # As the participant does: the store's order the message names, in any spelling.
    refs = find_order_refs(text, bare=expecting, asked=flow is not None)
    number = pick_order(refs, number_shapes(ORDERS), ORDERS)[0] or pending
    return dialogue.reply(
        Turn(
            text=text,
            lang=lang,
            prediction=Prediction(intent, confidence, "delivery_problem", 0.05),
            store_name="Lotus & Pine",
            store_language="en",
            flow=flow,
            order_number=number,
            order=ORDERS.get(number) if number else None,
            proven=proven,
        )
    )


def test_asks_the_number_then_the_proof_then_tells_the_status(dialogue: Dialogue) -> None:
    replies = default_replies()
    first = say(dialogue, "where is my order?")
    assert first.text == replies.say("en", "ask_order_number")
    second = say(dialogue, "it's LP10231", intent="greeting", confidence=0.4, flow=first.flow)
    assert second.text == replies.say("en", "ask_verification", order="LP10231")
    assert "DHL" not in second.text  # nothing about the order before the proof
    third = say(dialogue, "ana.garcia@example.com", intent="account_edit", flow=second.flow)
    assert third.flow is None and third.handoff is None
    assert replies.phrase("en", "status_names", "in_transit") in third.text
    assert "DHL Express" in third.text and IN_TRANSIT["tracking"] in third.text


def test_two_wrong_proofs_hand_over_to_a_person(dialogue: Dialogue) -> None:
    asked = say(dialogue, "status of #10231 please")
    wrong = say(dialogue, "someone@example.com", flow=asked.flow)
    assert wrong.text == default_replies().say("en", "verification_failed", order="LP10231")
    again = say(dialogue, "99999", flow=wrong.flow)
    assert again.handoff == "not_verified"


def test_an_unknown_number_is_said_and_asked_again(dialogue: Dialogue) -> None:
    reply = say(dialogue, "where is order #55555")
    # Said back as the shopper wrote it: the store has no such order to spell it by.
    assert reply.text == default_replies().say("en", "order_not_found", order="#55555")
    assert reply.flow == {"name": "order_status"}


def test_a_question_on_the_side_is_answered_and_the_flow_goes_on(dialogue: Dialogue) -> None:
    asked = say(dialogue, "status of #10231 please")
    detour = say(dialogue, "what is it made of?", intent="product_material", flow=asked.flow)
    assert detour.flow == asked.flow
    assert detour.text.endswith(default_replies().say("en", "ask_verification", order="LP10231"))
    done = say(dialogue, "the postcode is 28 013", flow=detour.flow)
    assert done.flow is None and "DHL Express" in done.text


@pytest.mark.parametrize(
    ("lang", "text"), [("en", "never mind"), ("zh", "算了"), ("es", "olvídalo")]
)
def test_the_shopper_can_stop_the_flow(dialogue: Dialogue, lang: str, text: str) -> None:
    asked = say(dialogue, "where is my order?", lang=lang)
    stopped = say(dialogue, text, intent="thanks_goodbye", flow=asked.flow, lang=lang)
    assert stopped.flow is None
    assert stopped.text == default_replies().say(lang, "flow_cancelled")


def test_proof_is_the_email_or_the_postcode_however_typed() -> None:
    tokyo = ORDERS["LP10233"]  # yuki.sato@example.com, 150-0001
    assert proves_ownership("Yuki.Sato@Example.com", tokyo)
    assert proves_ownership("〒150 0001", tokyo)
    assert not proves_ownership("150-0002", tokyo)
    assert not proves_ownership("sato@example.com", tokyo)


def test_order_numbers_marked_or_bare() -> None:
    def named(text: str, *, bare: bool = True) -> str | None:
        return pick_order(find_order_refs(text, bare=bare), number_shapes(ORDERS), ORDERS)[0]

    assert named("where is LP10231?") == "LP10231"
    assert named("order #10232") == "LP10232"
    assert named("10233") == "LP10233"
    assert named("my postcode is 28013", bare=False) is None
    assert named("x@10231.com") is None


def test_cancelling_an_order_not_yet_shipped_needs_an_explicit_yes(dialogue: Dialogue) -> None:
    replies = default_replies()
    asked = say(dialogue, "I want to cancel my order", intent="cancel_order")
    assert asked.text == replies.say("en", "ask_order_number")
    proof = say(dialogue, "#10234", intent="cancel_order", flow=asked.flow)
    assert proof.text == replies.say("en", "ask_verification", order="LP10234")
    offer = say(dialogue, "li.wei@example.com", intent="account_edit", flow=proof.flow)
    assert offer.text == replies.say("en", "confirm_cancel", order="LP10234")
    assert offer.action is None
    unclear = say(dialogue, "hmm what happens then", intent="cancellation_fee", flow=offer.flow)
    assert unclear.text == replies.say("en", "yes_or_no", order="LP10234")
    done = say(dialogue, "yes please", intent="thanks_goodbye", flow=unclear.flow)
    assert done.action == "cancel_order" and done.flow is None
    assert done.text == replies.say("en", "order_cancelled", order="LP10234")


def test_no_keeps_the_order(dialogue: Dialogue) -> None:
    proof = say(dialogue, "cancel order #10234", intent="cancel_order")
    offer = say(dialogue, "200040", intent="account_edit", flow=proof.flow)  # the postcode
    kept = say(dialogue, "no", intent="greeting", flow=offer.flow)
    assert kept.action is None
    assert kept.text == default_replies().say("en", "cancel_kept", order="LP10234")


def test_a_shipped_order_cannot_be_cancelled(dialogue: Dialogue) -> None:
    proof = say(dialogue, "cancel order #10231", intent="cancel_order")
    answer = say(dialogue, "ana.garcia@example.com", intent="account_edit", flow=proof.flow)
    assert answer.action is None and answer.flow is None
    assert answer.text == default_replies().say("en", "cannot_cancel_shipped", order="LP10231")


def test_an_order_proved_once_is_not_asked_for_again(dialogue: Dialogue) -> None:
    replies = default_replies()
    proof = say(dialogue, "where is #10234", intent="order_status")
    status = say(dialogue, "li.wei@example.com", intent="account_edit", flow=proof.flow)
    assert status.verified == "LP10234" and proof.verified is None
    # Later in the conversation: cancelling the same order goes straight to the question.
    offer = say(
        dialogue, "actually cancel #10234", intent="cancel_order", proven=frozenset({"LP10234"})
    )
    assert offer.text == replies.say("en", "confirm_cancel", order="LP10234")
    # Another order still needs its own proof.
    other = say(dialogue, "and cancel #10231", intent="cancel_order", proven=frozenset({"LP10234"}))
    assert other.text == replies.say("en", "ask_verification", order="LP10231")
