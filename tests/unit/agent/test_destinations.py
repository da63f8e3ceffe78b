"""Shipping and customs for the country a shopper names, and "and to Canada?"."""

from __future__ import annotations

from typing import Any

import pytest

from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.countries import country_name, find_country
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.intents import Prediction
from portside.agent.replies import default_replies
from portside.commerce.shipping import demo_shipping, parse_shipping

REPLIES = default_replies()
SHIPPING = parse_shipping(demo_shipping())
KNOWLEDGE = [
    {
        "id": "shipping-rates-and-times",
        "intents": ["shipping_info"],
        "title": {"en": "Shipping"},
        "text": {"en": "We ship worldwide: see the table."},
    }
]


@pytest.mark.parametrize(
    ("text", "lang", "code"),
    [
        ("do you ship to Canada?", "en", "CA"),
        ("and to the US?", "en", "US"),
        ("what about the UK", "en", "GB"),
        ("shipping to South Korea", "en", "KR"),
        ("¿y a México?", "es", "MX"),
        ("envoyez-vous au Canada", "fr", "CA"),
        ("nach Österreich?", "de", "AT"),
        ("frete para Portugal", "pt", "PT"),
        ("寄到日本要多久", "zh", "JP"),
        ("カナダへの送料", "ja", "CA"),
        ("캐나다 배송", "ko", "CA"),
        ("الشحن إلى السعودية", "ar", "SA"),
        ("كم الشحن للكويت", "ar", "KW"),
        ("в Канаду доставляете?", "ru", "CA"),
    ],
)
def test_countries_are_found_by_their_names_in_the_shoppers_language(
    text: str, lang: str, code: str
) -> None:
    assert find_country(text, lang) == code


@pytest.mark.parametrize("text", ["a jersey for my son", "can you send it to us", "hello"])
def test_words_that_only_look_like_countries_are_not(text: str) -> None:
    assert find_country(text, "en") is None


def say(
    text: str,
    intent: str,
    *,
    lang: str = "en",
    country: str | None = None,
    last_intent: str | None = None,
    confidence: float = 0.9,
    shipping: Any = SHIPPING,
) -> Reply:
    dialogue = Dialogue(REPLIES, ProductAnswers(REPLIES, default_glossary()))
    return dialogue.reply(
        Turn(
            text=text,
            lang=lang,
            prediction=Prediction(intent, confidence, "out_of_scope", 0.01),
            store_name="Lotus & Pine",
            store_language="en",
            knowledge=KNOWLEDGE,
            shipping=shipping,
            country=country,
            last_intent=last_intent,
        )
    )


def test_shipping_to_a_named_country_gives_its_rates_and_days() -> None:
    reply = say("how much is shipping to Canada?", "shipping_info")
    assert reply.text == " ".join(
        [
            REPLIES.say(
                "en", "shipping_to", country="Canada", price="$6.90", days_min="7", days_max="12"
            ),
            REPLIES.say("en", "shipping_express", price="$19.90", days_min="3", days_max="5"),
            REPLIES.say("en", "shipping_free_over", amount="$79.00"),
        ]
    )


def test_prices_and_country_names_are_written_the_shoppers_way() -> None:
    reply = say("envío a Brasil?", "shipping_info", lang="es")
    assert "Brasil" in reply.text and "9,90" in reply.text and "12–20" in reply.text
    reply = say("日本まで送料いくら", "shipping_info", lang="ja")
    assert "日本への配送" in reply.text and "$4.90" in reply.text


def test_no_country_named_means_the_shoppers_own_and_else_the_knowledge() -> None:
    mine = say("how long does shipping take?", "shipping_info", country="JP")
    assert mine.text.startswith("Shipping to Japan:")
    unknown = say("how long does shipping take?", "shipping_info")
    assert unknown.text.startswith("We ship worldwide")
    # A shopper in a country the store has no zone for gets the whole table, not a no.
    elsewhere = say("how long does shipping take?", "shipping_info", country="CN")
    assert elsewhere.text.startswith("We ship worldwide")
    no_zones = say("shipping to Canada?", "shipping_info", shipping=None)
    assert no_zones.text.startswith("We ship worldwide")


def test_a_country_named_that_the_store_does_not_ship_to_is_said_so() -> None:
    reply = say("do you ship to Mexico?", "shipping_info")
    assert reply.text == REPLIES.say("en", "shipping_not_to", country="Mexico")


def test_customs_depend_on_the_country() -> None:
    assert say("import taxes to Germany?", "customs_duties").text == REPLIES.say(
        "en", "duties_included", country="Germany"
    )
    assert say("customs fees for Canada?", "customs_duties").text == REPLIES.say(
        "en", "duties_on_delivery", country="Canada"
    )


def test_and_to_another_country_follows_the_last_answer_whatever_it_sounds_like() -> None:
    follow = say("and to Japan?", "greeting", confidence=0.2, last_intent="shipping_info")
    assert follow.intent == "shipping_info" and follow.text.startswith("Shipping to Japan:")
    customs = say("¿y a Brasil?", "out_of_scope", lang="es", last_intent="customs_duties")
    assert customs.intent == "customs_duties"
    assert customs.text == REPLIES.say("es", "duties_on_delivery", country="Brasil")
    # Not after something else, and not a long message about another topic.
    assert say("and to Japan?", "greeting", confidence=0.2, last_intent="order_status").intent != (
        "shipping_info"
    )
    long = say(
        "my sister in Japan wants to know how to wash this shirt",
        "product_care",
        last_intent="shipping_info",
    )
    assert long.intent == "product_care"


def test_country_names_in_the_shoppers_language() -> None:
    assert country_name("DE", "fr") == "Allemagne"
    assert country_name("DE", "xx") == "Germany"
