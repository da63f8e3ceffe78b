"""What the bot answers, decided from the understanding and the store's data."""

from __future__ import annotations

from typing import Any

import pytest

from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.dialogue import Dialogue, Turn, is_shouting
from portside.agent.intents import Prediction
from portside.agent.replies import default_replies
from portside.commerce.catalog import load_demo_catalog

SHIRT = next(p.to_dict() for p in load_demo_catalog() if p.slug == "washed-linen-shirt")
SHIPPING = {
    "id": "shipping",
    "intents": ["shipping_info"],
    "title": {"en": "Shipping", "ja": "配送"},
    "text": {"en": "Standard shipping takes 7-12 days.", "ja": "通常配送は7〜12営業日です。"},
}


@pytest.fixture
def dialogue() -> Dialogue:
    replies = default_replies()
    return Dialogue(replies, ProductAnswers(replies, default_glossary()))


def turn(intent: str, confidence: float = 0.95, **fields: Any) -> Turn:
    defaults: dict[str, Any] = {
        "text": "a message",
        "lang": "en",
        "prediction": Prediction(intent, confidence, "out_of_scope", 1 - confidence),
        "store_name": "Lotus & Pine",
        "store_language": "en",
    }
    return Turn(**{**defaults, **fields})


def test_asking_for_a_person_hands_over(dialogue: Dialogue) -> None:
    reply = dialogue.reply(turn("human_agent", lang="zh"))
    assert reply.handoff == "asked_for_person"
    assert reply.text == default_replies().say("zh", "handoff")


def test_shouting_hands_over(dialogue: Dialogue) -> None:
    reply = dialogue.reply(turn("delivery_problem", text="WHERE IS MY PACKAGE, THREE WEEKS NOW"))
    assert reply.handoff == "frustration"
    assert not is_shouting("Where is my package? It's been THREE weeks")


def test_the_second_misunderstanding_in_a_row_hands_over(dialogue: Dialogue) -> None:
    first = dialogue.reply(turn("product_question", confidence=0.2))
    second = dialogue.reply(turn("product_question", confidence=0.2, misunderstood_before=1))
    assert (first.understood, first.handoff) == (False, None)
    assert (second.understood, second.handoff) == (False, "not_understood")


def test_two_close_intents_get_one_clarifying_question(dialogue: Dialogue) -> None:
    close = Prediction("refund_status", 0.42, "refund_request", 0.38)
    reply = dialogue.reply(turn("refund_status", prediction=close))
    replies = default_replies()
    assert replies.topic("en", "refund_status") in reply.text
    assert replies.topic("en", "refund_request") in reply.text
    assert reply.handoff is None


def test_care_of_the_product_in_view_in_the_shoppers_language(dialogue: Dialogue) -> None:
    reply = dialogue.reply(turn("product_care", lang="es", product=SHIRT))
    assert "Camisa de lino lavado" in reply.text
    for line in SHIRT["care_i18n"]["es"]:
        assert line in reply.text


def test_a_product_question_without_a_product_asks_which(dialogue: Dialogue) -> None:
    reply = dialogue.reply(turn("size_fit", lang="de"))
    assert reply.text == default_replies().say("de", "which_product")


def test_materials_sizes_and_stock_come_from_the_catalogue(dialogue: Dialogue) -> None:
    materials = dialogue.reply(turn("product_material", product=SHIRT)).text
    sizes = dialogue.reply(turn("size_fit", product=SHIRT)).text
    stock = dialogue.reply(turn("stock_availability", product=SHIRT)).text
    assert "100% linen" in materials
    assert "XS" in sizes and "112 cm" in sizes  # M's chest
    # Sage is sold out in every size; Sand and White are not.
    assert "Sand" in stock and "Sage" in stock
    assert stock.index("Sage") > stock.index("Sand")


def test_knowledge_in_the_shoppers_language_or_the_stores_said_so(dialogue: Dialogue) -> None:
    in_japanese = dialogue.reply(turn("shipping_info", lang="ja", knowledge=[SHIPPING]))
    in_korean = dialogue.reply(turn("shipping_info", lang="ko", knowledge=[SHIPPING]))
    assert in_japanese.text == "通常配送は7〜12営業日です。"
    assert in_korean.text.startswith("Standard shipping takes 7-12 days.")
    assert default_replies().language_name("ko", "en") in in_korean.text


def test_an_intent_without_an_answer_offers_a_person(dialogue: Dialogue) -> None:
    reply = dialogue.reply(turn("invoice", lang="fr"))
    replies = default_replies()
    assert reply.text == replies.say("fr", "person_can_help", topic=replies.topic("fr", "invoice"))
    assert reply.handoff is None


def test_every_language_has_every_reply() -> None:
    replies = default_replies()
    assert {"en", "zh", "es", "de", "fr", "ja", "pt", "ko", "ar", "ru"} <= replies.languages
    for lang in replies.languages:
        assert replies.say(lang, "greeting", store="X")
        assert replies.join(lang, ["a", "b", "c"]).startswith("a")
