"""The return or exchange flow, and the change of address, over the dialogue."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from portside.agent.address import read_address
from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.intents import Prediction
from portside.agent.replies import default_replies
from portside.agent.returns import other_sizes, pick_item, pick_size
from portside.commerce.catalog import load_demo_catalog
from portside.commerce.orders import demo_orders
from portside.domain.order_numbers import find_order_refs, number_shapes, pick_order

TODAY = date(2026, 12, 4)
ORDERS = {o["number"]: o for o in demo_orders(TODAY)}
PRODUCTS = {p.slug: p.to_dict() for p in load_demo_catalog()}
REPLIES = default_replies()


@pytest.fixture
def dialogue() -> Dialogue:
    return Dialogue(REPLIES, ProductAnswers(REPLIES, default_glossary()))


def say(
    dialogue: Dialogue,
    text: str,
    *,
    intent: str = "return_request",
    confidence: float = 0.9,
    flow: dict[str, Any] | None = None,
    lang: str = "en",
    orders: dict[str, dict[str, Any]] | None = None,
    today: date = TODAY,
) -> Reply:
    pending = (flow or {}).get("order")
    expecting = not pending and (flow is not None or intent == "return_request")
    known = orders or ORDERS
    refs = find_order_refs(text, bare=expecting, asked=flow is not None)
    number = pick_order(refs, number_shapes(known), known)[0] or pending
    order = known.get(number) if number else None
    return dialogue.reply(
        Turn(
            text=text,
            lang=lang,
            prediction=Prediction(intent, confidence, "refund_request", 0.05),
            store_name="Lotus & Pine",
            store_language="en",
            flow=flow,
            order_number=number,
            order=order,
            order_products=PRODUCTS,
            today=today,
        )
    )


def delivered(number: str, days_ago: int, **changes: Any) -> dict[str, dict[str, Any]]:
    """The demo orders, with `number` delivered `days_ago` days before TODAY."""
    order = {
        **ORDERS[number],
        "status": "delivered",
        "delivered_on": (TODAY - timedelta(days=days_ago)).isoformat(),
        **changes,
    }
    return {**ORDERS, number: order}


def test_a_delivered_item_is_exchanged_for_a_size_in_stock_and_a_case_opens(
    dialogue: Dialogue,
) -> None:
    asked = say(dialogue, "I want to return something from order #10233")
    assert asked.text == REPLIES.say("en", "ask_verification", order="LP10233")
    # One item in the order: no need to ask which.
    reason = say(dialogue, "yuki.sato@example.com", intent="account_edit", flow=asked.flow)
    assert reason.verified == "LP10233"
    assert reason.text == REPLIES.say("en", "return_ask_reason", item="Washed Linen Shirt")
    # The reason sounds like a sizing question: in the flow, it is an answer.
    how = say(dialogue, "it's too small on me", intent="size_fit", flow=reason.flow)
    assert how.text == REPLIES.say("en", "return_ask_resolution")
    size = say(dialogue, "exchange please", intent="change_order", flow=how.flow)
    # The shirt is M in Sand; Sand is in stock in XS, S, L and XL.
    assert size.text == REPLIES.say("en", "return_ask_size", sizes="XS, S, L, XL")
    wrong = say(dialogue, "XXL", intent="size_fit", flow=size.flow)
    assert wrong.text == REPLIES.say("en", "return_ask_size_again", sizes="XS, S, L, XL")
    done = say(dialogue, "L please", intent="size_fit", flow=wrong.flow)
    assert done.flow is None
    assert (done.action, done.handoff) == ("open_case", "case_opened")
    assert done.payload == {
        "kind": "exchange",
        "data": {
            "order": "LP10233",
            "items": [
                {
                    "sku": "LP-WLS-SAN-M",
                    "slug": "washed-linen-shirt",
                    "name": "Washed Linen Shirt",
                    "size": "M",
                    "color": "Sand",
                    "quantity": 1,
                }
            ],
            "reason": "too_small",
            "resolution": "exchange",
            "exchange_for": {"size": "L"},
            "photos": [],
            "words": "it's too small on me",
            "language": "en",
        },
    }
    assert "{case}" in done.text and "exchange for size L" in done.text


def test_several_items_are_asked_about_and_one_answer_can_say_it_all(
    dialogue: Dialogue,
) -> None:
    orders = delivered("LP10234", 3)
    proof = say(dialogue, "quiero devolver algo del pedido #10234", lang="es", orders=orders)
    which = say(
        dialogue, "200040", intent="account_edit", flow=proof.flow, lang="es", orders=orders
    )
    assert "1. Vestido lencero de charmeuse de seda (S, Champagne)" in which.text
    assert "2. Camisa de lino lavado (M, Sand)" in which.text
    done = say(
        dialogue,
        "el vestido, llegó roto y quiero un reembolso",
        intent="refund_request",
        flow=which.flow,
        lang="es",
        orders=orders,
    )
    assert done.action == "open_case" and done.payload is not None
    data = done.payload["data"]
    assert (data["reason"], data["resolution"], data["exchange_for"]) == ("damaged", "refund", None)
    assert data["items"][0]["slug"] == "silk-slip-dress"
    assert done.payload["kind"] == "return"
    # Damaged: the bot asks for a photo for the case.
    assert REPLIES.say("es", "return_photo") in done.text
    assert "reembolso" in done.text


def test_which_item_by_number_or_name_in_several_languages() -> None:
    items = ORDERS["LP10234"]["items"]
    assert pick_item("2", items, PRODUCTS) == 1
    assert pick_item("the second one, number 2", items, PRODUCTS) == 1
    assert pick_item("the slip dress", items, PRODUCTS) == 0
    assert pick_item("衬衫", items, PRODUCTS) == 1
    assert pick_item("那件亚麻衬衫", items, PRODUCTS) == 1
    assert pick_item("3", items, PRODUCTS) is None
    assert pick_item("hmm", items, PRODUCTS) is None


def test_sizes_are_read_as_whole_labels() -> None:
    sizes = ["XS", "S", "L", "XL"]
    assert pick_size("L please", sizes) == "L"
    assert pick_size("换L码", sizes) == "L"
    assert pick_size("una XL", sizes) == "XL"
    assert pick_size("it's fine", sizes) is None  # the s of "it's" is no size
    assert pick_size("S or L", sizes) is None
    assert other_sizes(ORDERS["LP10233"], 0, PRODUCTS) == ["XS", "S", "L", "XL"]


@pytest.mark.parametrize(
    ("status", "key"),
    [("processing", "return_not_shipped"), ("in_transit", "return_on_its_way")],
)
def test_an_order_not_yet_delivered_cannot_be_returned_yet(
    dialogue: Dialogue, status: str, key: str
) -> None:
    orders = {**ORDERS, "LP10231": {**ORDERS["LP10231"], "status": status}}
    proof = say(dialogue, "return order #10231", orders=orders)
    answer = say(dialogue, "28013", intent="account_edit", flow=proof.flow, orders=orders)
    assert answer.text == REPLIES.say("en", key, order="LP10231", days="30")
    assert answer.flow is None and answer.action is None


def test_past_the_returns_window_a_person_takes_over(dialogue: Dialogue) -> None:
    orders = delivered("LP10233", 31)
    proof = say(dialogue, "返品したい #10233", lang="ja", orders=orders)
    answer = say(dialogue, "150-0001", intent="account_edit", flow=proof.flow, orders=orders)
    assert answer.handoff == "return_window" and answer.action is None
    # The last day of the window still counts.
    orders = delivered("LP10233", 30)
    proof = say(dialogue, "返品したい #10233", lang="ja", orders=orders)
    answer = say(dialogue, "150-0001", intent="account_edit", flow=proof.flow, orders=orders)
    assert answer.handoff is None and answer.flow is not None


def test_the_shopper_can_stop_a_return_midway(dialogue: Dialogue) -> None:
    proof = say(dialogue, "return #10233")
    reason = say(dialogue, "150-0001", intent="account_edit", flow=proof.flow)
    stopped = say(dialogue, "never mind", intent="thanks_goodbye", flow=reason.flow)
    assert stopped.text == REPLIES.say("en", "flow_cancelled") and stopped.flow is None


def test_an_address_changes_only_before_shipping_and_after_a_yes(dialogue: Dialogue) -> None:
    proof = say(dialogue, "can I change the address of #10234", intent="shipping_address")
    ask = say(dialogue, "li.wei@example.com", intent="account_edit", flow=proof.flow)
    assert ask.text == REPLIES.say("en", "address_ask", order="LP10234")
    vague = say(dialogue, "my office", intent="shipping_address", flow=ask.flow)
    assert vague.text == REPLIES.say("en", "address_unclear")
    address = "Li Wei, 88 Huaihai Road, 200031 Shanghai, China"
    confirm = say(dialogue, address, intent="shipping_address", flow=vague.flow)
    assert confirm.text == REPLIES.say("en", "address_confirm", order="LP10234", address=address)
    assert confirm.action is None
    done = say(dialogue, "yes", intent="greeting", flow=confirm.flow)
    assert (done.action, done.payload, done.flow) == ("change_address", {"address": address}, None)
    kept = say(dialogue, "no", intent="greeting", flow=confirm.flow)
    assert kept.action is None and kept.text == REPLIES.say("en", "address_kept", order="LP10234")


def test_a_shipped_order_keeps_its_address_and_the_tracking_is_offered(
    dialogue: Dialogue,
) -> None:
    proof = say(dialogue, "change delivery address #10231", intent="shipping_address")
    answer = say(dialogue, "ana.garcia@example.com", intent="account_edit", flow=proof.flow)
    assert answer.text == REPLIES.say(
        "en",
        "address_too_late_moving",
        order="LP10231",
        carrier="DHL Express",
        tracking="JD014600003828",
    )
    assert answer.flow is None


def test_what_counts_as_a_whole_address() -> None:
    assert (
        read_address("Calle Mayor 5, 28013 Madrid, España") == "Calle Mayor 5, 28013 Madrid, España"
    )
    assert read_address("上海市徐汇区淮海中路88号 200031") is not None
    assert read_address("  Rua Augusta 100\n\n 01305-000 São Paulo ") == (
        "Rua Augusta 100\n01305-000 São Paulo"
    )
    assert read_address("my office") is None
    assert read_address("Main Street, Springfield") is None  # no number at all
    assert read_address("x" * 301 + " 1 2") is None


def test_every_language_has_the_flows_texts_and_word_lists() -> None:
    for lang in REPLIES.languages:
        reasons = REPLIES.choices(lang, "return_reasons")
        assert set(reasons) == {
            "too_small",
            "too_big",
            "damaged",
            "wrong_item",
            "not_as_described",
            "changed_mind",
        }
        assert set(REPLIES.choices(lang, "resolutions")) == {"refund", "exchange"}
        text = REPLIES.say(lang, "return_opened", case="7", item="x", order="LP1", resolution="r")
        assert "7" in text and "LP1" in text


def test_a_refund_above_the_stores_limit_goes_to_a_person(dialogue: Dialogue) -> None:
    def refund(number: str, limit: str | None) -> Reply:
        return dialogue.reply(
            Turn(
                text=f"I want a refund for order #{number}",
                lang="en",
                prediction=Prediction("refund_request", 0.9, "return_request", 0.05),
                store_name="Lotus & Pine",
                store_language="en",
                order_number=f"LP{number}",
                order=ORDERS[f"LP{number}"],
                refund_above=None if limit is None else Decimal(limit),
            )
        )

    over = refund("10234", "150")  # 207.00
    assert (over.handoff, over.text) == ("store_rule", REPLIES.say("en", "handoff_store_rule"))
    assert refund("10231", "150").handoff is None  # 49.00
    assert refund("10234", None).handoff is None
    assert refund("10234", "207").handoff is None  # above, not at
