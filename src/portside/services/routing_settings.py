"""A store's `routing` settings: priority rules, the grace an agent who drops off keeps
their conversations for, and when an idle agent is set away. Checked whole, each error
naming its field (services/settings.py registers the section)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from portside.domain.routing import PriorityRule
from portside.errors import InvalidRequest, field_error

DEFAULT_GRACE_S = 120
DEFAULT_AWAY_AFTER_S = 600
MAX_RULES = 20
RULE_KINDS = ("order_total_above", "tag")


@dataclass(frozen=True)
class RoutingSettings:
    priority_rules: tuple[PriorityRule, ...] = ()
    # An agent whose console is gone keeps their conversations this long.
    grace_s: int = DEFAULT_GRACE_S
    # An online agent idle this long is set away (None: never).
    away_after_s: int | None = DEFAULT_AWAY_AFTER_S
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def read_routing(settings: Mapping[str, Any] | None) -> RoutingSettings:
    raw = (settings or {}).get("routing")
    if not isinstance(raw, dict):
        return RoutingSettings()
    try:
        return parse_routing(raw)
    except InvalidRequest:
        return RoutingSettings()


def check_routing(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    del old
    return parse_routing(body).raw


def parse_routing(body: Mapping[str, Any]) -> RoutingSettings:
    unknown = set(body) - {"priority_rules", "grace_s", "away_after_s"}
    if unknown:
        name = sorted(unknown)[0]
        raise field_error(name, f"routing has no setting {name!r}.")
    rules_raw = body.get("priority_rules", [])
    if not isinstance(rules_raw, list) or len(rules_raw) > MAX_RULES:
        raise field_error(
            "priority_rules", f"priority_rules is a list of at most {MAX_RULES} rules."
        )
    rules = tuple(_rule(i, r) for i, r in enumerate(rules_raw))
    grace = _whole(body, "grace_s", DEFAULT_GRACE_S, 0, 3600)
    away = body.get("away_after_s", DEFAULT_AWAY_AFTER_S)
    if away is not None:
        away = _whole(body, "away_after_s", DEFAULT_AWAY_AFTER_S, 60, 86400)
    raw = {
        "priority_rules": [_rule_to_dict(r) for r in rules],
        "grace_s": grace,
        "away_after_s": away,
    }
    return RoutingSettings(rules, grace, away, raw)


def _rule(index: int, raw: object) -> PriorityRule:
    where = f"priority_rules[{index}]"
    if not isinstance(raw, dict):
        raise field_error(where, f'{where} is an object like {{"when": "tag", ...}}.')
    when = raw.get("when")
    if when not in RULE_KINDS:
        raise field_error(f"{where}.when", f"{where}.when is one of {', '.join(RULE_KINDS)}.")
    priority = raw.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 100:
        raise field_error(f"{where}.priority", f"{where}.priority is a whole number from 1 to 100.")
    if when == "tag":
        _keys(raw, where, ("when", "priority", "tag"))
        tag = raw.get("tag")
        if not isinstance(tag, str) or not 1 <= len(tag.strip()) <= 64:
            raise field_error(f"{where}.tag", f'{where}.tag is a customer tag like "vip".')
        return PriorityRule(when, priority, tag=tag.strip())
    _keys(raw, where, ("when", "priority", "amount"))
    try:
        amount = Decimal(str(raw.get("amount")))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or isinstance(raw.get("amount"), bool):
        raise field_error(f"{where}.amount", f"{where}.amount is an order total, 0 or more.")
    return PriorityRule(when, priority, amount=amount)


def _rule_to_dict(rule: PriorityRule) -> dict[str, Any]:
    out: dict[str, Any] = {"when": rule.when, "priority": rule.priority}
    if rule.tag is not None:
        out["tag"] = rule.tag
    if rule.amount is not None:
        out["amount"] = str(rule.amount)
    return out


def _keys(raw: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    for key in raw:
        if key not in known:
            raise field_error(f"{where}.{key}", f"{where} has no field {key!r}.")


def _whole(body: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise field_error(name, f"{name} is a whole number of seconds from {low} to {high}.")
    return value
