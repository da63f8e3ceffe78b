"""Trigger rules read from JSON: normalised when good, refused with the field's path when
not (domain/trigger_rules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from portside.domain.trigger_rules import Group, parse_rule, read_group, rule_to_dict
from portside.errors import InvalidRequest


def rule(conditions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Linger on the dress",
        "conditions": {"match": "all", "conditions": conditions},
        "actions": {"message": {"texts": {"en": "Need a hand?"}}},
        **extra,
    }


def refusal(body: object) -> tuple[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_rule(body)
    details = caught.value.details
    assert isinstance(details, list)
    return details[0]["field"], caught.value.message


def test_a_full_rule_reads_and_writes_back_normalised() -> None:
    body = {
        "name": "  Dress lingerers ",
        "enabled": False,
        "priority": 5,
        "holdout_pct": 10,
        "conditions": {
            "match": "all",
            "conditions": [
                {"type": "url", "include": ["https://shop.example/products/*"]},
                {"type": "country", "in": ["es", "MX"]},
                {"type": "language", "in": ["ES"]},
                {"type": "cart_value", "min": 50, "max": "200.50"},
                {
                    "type": "group",
                    "match": "any",
                    "conditions": [
                        {"type": "time_on_page", "seconds": 30},
                        {"type": "exit_intent"},
                    ],
                },
            ],
        },
        "actions": {
            "message": {"texts": {"EN": " Hello ", "es": "Hola"}},
            "coupon": {"pool_id": 3},
            "open_widget": True,
            "notify_agents": True,
        },
    }
    parsed = parse_rule(body)
    out = rule_to_dict(parsed)
    assert out["name"] == "Dress lingerers"
    assert out["enabled"] is False and out["priority"] == 5 and out["holdout_pct"] == 10
    conditions = out["conditions"]["conditions"]
    assert conditions[0] == {
        "type": "url",
        "include": ["https://shop.example/products/*"],
        "exclude": [],
    }
    assert conditions[1] == {"type": "country", "in": ["ES", "MX"]}
    assert conditions[2] == {"type": "language", "in": ["es"]}
    assert conditions[3] == {"type": "cart_value", "min": "50", "max": "200.50"}
    assert conditions[4]["match"] == "any" and len(conditions[4]["conditions"]) == 2
    assert out["actions"] == {
        "message": {"texts": {"en": "Hello", "es": "Hola"}},
        "coupon": {"pool_id": 3},
        "open_widget": True,
        "notify_agents": True,
    }
    # What is stored reads back as the same rule.
    assert read_group(out["conditions"]) == parsed.conditions
    assert isinstance(parsed.conditions.conditions[4], Group)


@pytest.mark.parametrize(
    ("conditions", "field"),
    [
        ([{"type": "teleport"}], "conditions.conditions[0].type"),
        (
            [
                {"type": "url", "include": ["a"]},
                {"type": "exit_intent"},
                {"type": "checkout_abandoned"},
            ],
            "conditions.conditions[2].minutes",
        ),
        ([{"type": "time_on_page", "seconds": 0}], "conditions.conditions[0].seconds"),
        ([{"type": "time_on_page", "seconds": True}], "conditions.conditions[0].seconds"),
        ([{"type": "cart_value"}], "conditions.conditions[0].min"),
        ([{"type": "cart_value", "min": 10, "max": 5}], "conditions.conditions[0].max"),
        ([{"type": "cart_value", "min": "lots"}], "conditions.conditions[0].min"),
        ([{"type": "cart_items", "min": -1}], "conditions.conditions[0].min"),
        ([{"type": "url"}], "conditions.conditions[0].include"),
        ([{"type": "url", "include": "https://x/*"}], "conditions.conditions[0].include"),
        ([{"type": "product", "in": []}], "conditions.conditions[0].in"),
        ([{"type": "country", "in": ["Spain"]}], "conditions.conditions[0].in[0]"),
        ([{"type": "language", "in": ["es-ES"]}], "conditions.conditions[0].in[0]"),
        ([{"type": "visitor", "is": "old"}], "conditions.conditions[0].is"),
        ([{"type": "utm"}], "conditions.conditions[0].source"),
        ([{"type": "business_hours", "inside": "yes"}], "conditions.conditions[0].inside"),
        ([{"type": "exit_intent", "fast": True}], "conditions.conditions[0].fast"),
        ([{"type": "event", "name": "Wish List"}], "conditions.conditions[0].name"),
        (
            [{"type": "event", "name": "wishlist_add", "where": [{"property": "p", "op": "like"}]}],
            "conditions.conditions[0].where[0].op",
        ),
        (
            [
                {
                    "type": "event",
                    "name": "wishlist_add",
                    "where": [{"property": "price", "op": "gt", "value": "cheap"}],
                }
            ],
            "conditions.conditions[0].where[0].value",
        ),
        (
            [{"type": "group", "match": "most", "conditions": [{"type": "exit_intent"}]}],
            "conditions.conditions[0].match",
        ),
        ([{"type": "group", "conditions": []}], "conditions.conditions[0].conditions"),
    ],
)
def test_a_wrong_condition_is_named_by_its_path(
    conditions: list[dict[str, Any]], field: str
) -> None:
    assert refusal(rule(conditions))[0] == field


def test_groups_nest_three_deep_and_no_deeper() -> None:
    leaf: dict[str, Any] = {"type": "exit_intent"}
    two = {"type": "group", "match": "any", "conditions": [leaf]}
    three = {"type": "group", "match": "all", "conditions": [two]}
    parse_rule(rule([three]))
    four = {"type": "group", "match": "all", "conditions": [three]}
    field, message = refusal(rule([four]))
    assert field == "conditions.conditions[0].conditions[0].conditions[0]"
    assert "3 deep" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"holdout_pct": 51}, "holdout_pct"),
        ({"priority": 1.5}, "priority"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "colour"),
        ({"actions": {"message": None}}, "actions.message"),
        ({"actions": {"message": {"texts": {}}}}, "actions.message.texts"),
        ({"actions": {"message": {"texts": {"english": "Hi"}}}}, "actions.message.texts.english"),
        ({"actions": {"message": {"texts": {"en": "  "}}}}, "actions.message.texts.en"),
        (
            {"actions": {"message": None, "coupon": {"pool_id": 1}, "notify_agents": True}},
            "actions.coupon",
        ),
        (
            {"actions": {"message": None, "notify_agents": True, "open_widget": True}},
            "actions.open_widget",
        ),
        (
            {"actions": {"message": {"texts": {"en": "Hi"}}, "coupon": {"pool_id": "3"}}},
            "actions.coupon.pool_id",
        ),
    ],
)
def test_a_wrong_rule_field_is_named(change: dict[str, Any], field: str) -> None:
    assert refusal({**rule([{"type": "exit_intent"}]), **change})[0] == field


def test_missing_parts_are_named() -> None:
    assert refusal("a rule")[0] == "body"
    assert refusal({"name": "x", "actions": {}})[0] == "conditions"
    assert (
        refusal({"name": "x", "conditions": {"conditions": [{"type": "exit_intent"}]}})[0]
        == "actions"
    )


def test_a_hot_lead_alone_needs_no_message() -> None:
    parsed = parse_rule(
        {**rule([{"type": "exit_intent"}]), "actions": {"message": None, "notify_agents": True}}
    )
    assert parsed.actions.texts is None and parsed.actions.notify_agents
