"""What a store's own intents and examples must look like."""

from __future__ import annotations

import pytest

from portside.errors import InvalidRequest
from portside.services.intents import check_description, check_intent, check_name, check_text

CATALOGUE = {"order_status", "greeting"}


@pytest.mark.parametrize("name", ["gift_wrapping", "vip", "size_2xl"])
def test_good_names(name: str) -> None:
    assert check_name(name, CATALOGUE) == name


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("Gift Wrapping", "lowercase letters, digits and single underscores"),
        ("gift__wrapping", "single underscores"),
        ("_gift", "starting with a letter"),
        ("2fast", "starting with a letter"),
        ("x" * 65, "at most 64 characters"),
        (None, "lowercase letters"),
        ("order_status", "is an intent of the catalogue already"),
    ],
)
def test_bad_names_say_what_is_wrong(name: object, complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=complaint) as raised:
        check_name(name, CATALOGUE)
    assert raised.value.details == [{"field": "name", "problem": raised.value.message}]


def test_descriptions_are_required_and_tidied() -> None:
    assert check_description("  Shoppers who want\n a present wrapped ") == (
        "Shoppers who want a present wrapped"
    )
    for bad in ("", "   ", None, 3):
        with pytest.raises(InvalidRequest, match="needs a description"):
            check_description(bad)
    with pytest.raises(InvalidRequest, match="at most 500"):
        check_description("x" * 501)


def test_example_texts_are_1_to_500_characters() -> None:
    assert check_text("  gift wrap?  ") == "gift wrap?"
    assert check_text("x" * 500) == "x" * 500
    with pytest.raises(InvalidRequest, match="needs text"):
        check_text("  ")
    with pytest.raises(InvalidRequest, match="at most 500 characters"):
        check_text("x" * 501)


def test_an_example_intent_must_be_known() -> None:
    assert check_intent("greeting", CATALOGUE | {"gift_wrapping"}) == "greeting"
    with pytest.raises(InvalidRequest, match="Unknown intent 'gossip'") as raised:
        check_intent("gossip", CATALOGUE)
    assert raised.value.details[0]["field"] == "intent"  # type: ignore[index]
