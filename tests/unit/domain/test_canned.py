"""Canned reply templates: the variables they may hold, and filling them in with gaps."""

from __future__ import annotations

import pytest

from portside.domain.canned import (
    VARIABLES,
    Rendered,
    check_template,
    first_name,
    render,
)
from portside.errors import InvalidRequest

FULL = {
    "first_name": "Ana",
    "name": "Ana García",
    "email": "ana@example.com",
    "order.number": "LP10231",
    "order.status": "en camino",
    "order.tracking_url": "https://www.dhl.com/track?id=1",
    "agent.name": "Mei",
    "store.name": "Lotus & Pine",
}


def test_the_variables_are_the_ones_the_issue_names() -> None:
    assert set(VARIABLES) == set(FULL)


def test_a_template_lists_its_variables_once_in_order_of_use() -> None:
    text = "Hi {first_name}! {order.number} is {order.status}. Bye {first_name}."
    assert check_template(text) == ["first_name", "order.number", "order.status"]
    assert check_template("No variables at all.") == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("Hi {firstname}", "{firstname} at character 4 is not a variable"),
        ("Track it: {order.tracking}", "{order.tracking} at character 11 is not a variable"),
        ("Hi { first_name }", "{' first_name '} at character 4 is not a variable"),
        ("Hi {}", "{''} at character 4 is not a variable"),
        ("Hi {first_name", "The '{' at character 4 is not closed"),
        ("Hi {first_{name}", "The '{' at character 4 is not closed"),
        ("Hi first_name}", "The '}' at character 14 closes no variable"),
        ("{name}} thanks", "The '}' at character 7 closes no variable"),
    ],
)
def test_unknown_variables_and_stray_braces_are_refused_with_where(
    text: str, complaint: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_template(text)
    assert complaint in caught.value.message
    assert caught.value.details == [{"field": "text", "problem": caught.value.message}]


def test_a_refusal_names_the_known_variables() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_template("{tracking}")
    for name in VARIABLES:
        assert "{" + name + "}" in caught.value.message


def test_every_value_known_fills_every_variable() -> None:
    rendered = render("Hola {first_name}, tu pedido {order.number} está {order.status}.", FULL)
    assert rendered == Rendered("Hola Ana, tu pedido LP10231 está en camino.", ())
    assert rendered.complete


def test_a_variable_without_a_value_stays_as_a_gap_and_is_listed() -> None:
    values = {**FULL, "order.tracking_url": None, "first_name": "  "}
    rendered = render(
        "Hi {first_name}, follow {order.number} at {order.tracking_url} ({order.tracking_url})",
        values,
    )
    assert rendered.text == (
        "Hi {first_name}, follow LP10231 at {order.tracking_url} ({order.tracking_url})"
    )
    assert rendered.missing == ("first_name", "order.tracking_url")
    assert not rendered.complete


def test_values_are_put_in_as_text_never_read_as_templates() -> None:
    rendered = render("Hi {name}", {"name": "{email} <b>"})
    assert rendered == Rendered("Hi {email} <b>", ())


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Ana García", "Ana"),
        ("  Emily  Clark ", "Emily"),
        ("李伟", "李伟"),
        ("", None),
        (None, None),
    ],
)
def test_first_name_is_the_first_word(name: str | None, first: str | None) -> None:
    assert first_name(name) == first
