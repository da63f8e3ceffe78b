"""Size advice from the chart: a measurement, in cm or inches, or a usual size."""

from __future__ import annotations

import pytest

from portside.agent.answers import ProductAnswers, default_glossary
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.intents import Prediction
from portside.agent.replies import default_replies
from portside.agent.sizing import Measure, advise, read_measure
from portside.commerce.catalog import load_demo_catalog

REPLIES = default_replies()
PRODUCTS = {p.slug: p.to_dict() for p in load_demo_catalog()}
SHIRT = PRODUCTS["washed-linen-shirt"]  # chest 100, 106, 112, 118, 124 cm for XS to XL


@pytest.mark.parametrize(
    ("text", "lang", "measure"),
    [
        ("what size for a 96 cm chest?", "en", Measure("chest", 96.0)),
        ("my chest is 40 inches", "en", Measure("chest", 101.6)),
        ('chest 38"', "en", Measure("chest", 96.5)),
        ("mi pecho mide 104", "es", Measure("chest", 104.0)),
        ("胸围96厘米穿什么码", "zh", Measure("chest", 96.0)),
        ("バスト88cmです", "ja", Measure("chest", 88.0)),
        ("허리 76cm", "ko", Measure("waist", 76.0)),
        ("обхват груди 100 см", "ru", Measure("chest", 100.0)),
        ("tour de poitrine 92,5 cm", "fr", Measure("chest", 92.5)),
    ],
)
def test_measurements_are_read_in_the_shoppers_words_and_units(
    text: str, lang: str, measure: Measure
) -> None:
    assert read_measure(REPLIES, lang, text) == measure


def test_numbers_that_are_no_measurement_are_left_alone() -> None:
    assert read_measure(REPLIES, "en", "what size is order 10231") is None
    assert read_measure(REPLIES, "en", "I'm 170 cm tall") is None  # no chest or waist
    assert read_measure(REPLIES, "en", "96", expected=True) == Measure("chest", 96.0)
    assert read_measure(REPLIES, "en", "chest 7", expected=True) is None


def test_the_smallest_size_with_room_enough() -> None:
    assert advise(SHIRT, Measure("chest", 94.0)) == ("XS", 100.0, True)
    assert advise(SHIRT, Measure("chest", 101.0)) == ("M", 112.0, True)
    assert advise(SHIRT, Measure("chest", 130.0)) == ("XL", 124.0, False)
    # A shirt has no waist in its chart: no advice rather than a guess.
    assert advise(SHIRT, Measure("waist", 80.0)) is None


def reply(text: str, *, last_intent: str | None = None, intent: str = "size_fit") -> Reply:
    dialogue = Dialogue(REPLIES, ProductAnswers(REPLIES, default_glossary()))
    return dialogue.reply(
        Turn(
            text=text,
            lang="en",
            prediction=Prediction(intent, 0.9, "product_question", 0.05),
            store_name="Lotus & Pine",
            store_language="en",
            product=SHIRT,
            last_intent=last_intent,
        )
    )


def test_asking_which_size_gives_the_chart_and_asks_for_a_measurement() -> None:
    answer = reply("which size should I get?")
    assert answer.text.endswith(REPLIES.say("en", "size_ask_measure"))
    assert "XL: chest 124 cm" in answer.text


def test_a_measurement_given_then_or_later_gets_advice() -> None:
    now = reply("what size for a 101 cm chest?")
    assert now.text == REPLIES.say(
        "en",
        "size_advice",
        measure="chest",
        value="101",
        size="M",
        product="Washed Linen Shirt",
        garment="112",
    )
    later = reply("about 40 inches", last_intent="size_fit", intent="out_of_scope")
    assert (later.intent, later.text) == (
        "size_fit",
        REPLIES.say(
            "en",
            "size_advice",
            measure="chest",
            value="101.6",
            size="M",
            product="Washed Linen Shirt",
            garment="112",
        ),
    )


def test_a_usual_size_gets_that_sizes_measurements() -> None:
    answer = reply("I usually wear L", last_intent="size_fit", intent="greeting")
    assert answer.intent == "size_fit"
    assert answer.text.startswith("If L usually fits you well, take L in the Washed Linen Shirt")
    assert "chest 118 cm" in answer.text


def stock(text: str, *, lang: str = "en", last_intent: str | None = None, intent: str) -> Reply:
    dialogue = Dialogue(REPLIES, ProductAnswers(REPLIES, default_glossary()))
    return dialogue.reply(
        Turn(
            text=text,
            lang=lang,
            prediction=Prediction(intent, 0.9, "product_question", 0.05),
            store_name="Lotus & Pine",
            store_language="en",
            product=SHIRT,
            last_intent=last_intent,
        )
    )


def test_stock_of_the_colour_named_and_and_the_white_one() -> None:
    # Sand: XS, S, M, XL plenty, L one left; White: all low or fine; Sage: sold out.
    everything = stock("is it in stock?", intent="stock_availability")
    assert "Sand" in everything.text and "Sage" in everything.text
    white = stock("and the white one?", intent="greeting", last_intent="stock_availability")
    assert white.intent == "stock_availability"
    assert "White" in white.text and "Sand" not in white.text and "Sage" not in white.text
    sage = stock(
        "¿y en salvia?", lang="es", intent="out_of_scope", last_intent="stock_availability"
    )
    assert sage.text == REPLIES.say(
        "es", "stock_out", product="Camisa de lino lavado", options="Verde salvia"
    )
    zh = stock("白色的呢", lang="zh", intent="greeting", last_intent="stock_availability")
    assert "白色" in zh.text and "沙色" not in zh.text


def test_a_colour_the_product_does_not_come_in_is_said_so() -> None:
    blue = stock("do you have it in navy?", intent="stock_availability")
    assert blue.text == REPLIES.say(
        "en",
        "stock_no_color",
        product="Washed Linen Shirt",
        color="Navy",
        colors="Sand, White and Sage",
    )
    # Not after another topic: no colour answer out of the blue.
    assert stock("and the white one?", intent="greeting").intent == "greeting"
