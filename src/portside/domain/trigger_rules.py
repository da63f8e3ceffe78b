"""Trigger rules as a store writes them (docs/engagement.md): parsed and checked whole.

A rule is JSON from the console or the API. `parse_rule` reads it into frozen
dataclasses or refuses it with the path of the first field that is wrong
("conditions.conditions[2].minutes"), and `rule_to_dict` writes it back in the same
shape, normalised (trimmed names, upper-case countries, decimal strings for money).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from portside.errors import field_error

MAX_NAME = 100
MAX_PRIORITY = 1000
MAX_HOLDOUT_PCT = 50
MAX_DEPTH = 3
MAX_CONDITIONS = 20
MAX_LIST = 100
MAX_PATTERN = 500
MAX_TEXT = 2000
MAX_TEXTS = 40
MAX_WHERE = 10
MATCHES = ("all", "any")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
VISITOR_KINDS = ("new", "returning")
CONDITION_TYPES = (
    "url",
    "product",
    "category",
    "time_on_page",
    "cart_value",
    "cart_items",
    "checkout_abandoned",
    "exit_intent",
    "visitor",
    "country",
    "language",
    "utm",
    "business_hours",
    "event",
    "group",
)
# Conditions that can become true by time passing alone (the engine sets timers).
TIMED = frozenset({"time_on_page", "checkout_abandoned"})

_EVENT_NAME = re.compile(r"[a-z0-9_.-]{1,64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_COUNTRY = re.compile(r"[A-Z]{2}")

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    """One test on a visitor's state; `fields` as `rule_to_dict` writes them."""

    type: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Group:
    match: str
    conditions: tuple[Condition | Group, ...]


@dataclass(frozen=True)
class Actions:
    # The message by base language code; None: no message (a hot lead only).
    texts: Mapping[str, str] | None
    pool_id: int | None
    open_widget: bool
    notify_agents: bool


@dataclass(frozen=True)
class Rule:
    name: str
    enabled: bool
    priority: int
    holdout_pct: int
    conditions: Group
    actions: Actions


def parse_rule(body: object) -> Rule:
    """The rule `body` describes; raises InvalidRequest naming the field that is wrong."""
    if not isinstance(body, dict):
        raise field_error("body", "A trigger rule is a JSON object.")
    _keys(body, "", ("name", "enabled", "priority", "holdout_pct", "conditions", "actions"))
    name = body.get("name")
    if (
        not isinstance(name, str)
        or not 1 <= len(name.strip()) <= MAX_NAME
        or not (name.strip().isprintable())
    ):
        raise field_error("name", f"name is text of 1 to {MAX_NAME} characters on one line.")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise field_error("enabled", "enabled is true or false.")
    priority = _whole(body, "priority", "priority", -MAX_PRIORITY, MAX_PRIORITY, default=0)
    holdout = _whole(body, "holdout_pct", "holdout_pct", 0, MAX_HOLDOUT_PCT, default=0)
    if "conditions" not in body:
        raise field_error("conditions", 'A rule needs conditions: {"match": "all", ...}.')
    conditions = _group(body["conditions"], "conditions", 1)
    if "actions" not in body:
        raise field_error("actions", "A rule needs actions: a message, a hot lead, or both.")
    actions = _actions(body["actions"])
    return Rule(name.strip(), enabled, priority, holdout, conditions, actions)


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "priority": rule.priority,
        "holdout_pct": rule.holdout_pct,
        "conditions": group_to_dict(rule.conditions),
        "actions": actions_to_dict(rule.actions),
    }


def group_to_dict(group: Group) -> dict[str, Any]:
    return {
        "match": group.match,
        "conditions": [
            {"type": "group", **group_to_dict(c)}
            if isinstance(c, Group)
            else {"type": c.type, **c.fields}
            for c in group.conditions
        ],
    }


def actions_to_dict(actions: Actions) -> dict[str, Any]:
    return {
        "message": None if actions.texts is None else {"texts": dict(actions.texts)},
        "coupon": None if actions.pool_id is None else {"pool_id": actions.pool_id},
        "open_widget": actions.open_widget,
        "notify_agents": actions.notify_agents,
    }


def read_group(raw: Mapping[str, Any]) -> Group:
    """A stored group (checked when written) back into its dataclasses."""
    return _group(dict(raw), "conditions", 1)


def read_actions(raw: Mapping[str, Any]) -> Actions:
    return _actions(dict(raw))


def _group(raw: object, where: str, depth: int) -> Group:
    if depth > MAX_DEPTH:
        raise field_error(where, f"Groups nest at most {MAX_DEPTH} deep.")
    if not isinstance(raw, dict):
        raise field_error(where, f'{where} is a group: {{"match": "all", "conditions": [...]}}.')
    allowed = ("type", "match", "conditions") if depth > 1 else ("match", "conditions")
    _keys(raw, where, allowed)
    match = raw.get("match", "all")
    if match not in MATCHES:
        raise field_error(f"{where}.match", f'{where}.match is "all" or "any".')
    items = raw.get("conditions")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CONDITIONS:
        raise field_error(
            f"{where}.conditions",
            f"{where}.conditions is a list of 1 to {MAX_CONDITIONS} conditions.",
        )
    parsed: list[Condition | Group] = []
    for index, item in enumerate(items):
        path = f"{where}.conditions[{index}]"
        if not isinstance(item, dict):
            raise field_error(path, f'{path} is a condition: {{"type": "url", ...}}.')
        kind = item.get("type")
        if kind not in CONDITION_TYPES:
            raise field_error(
                f"{path}.type", f"{path}.type is one of {', '.join(CONDITION_TYPES)}."
            )
        if kind == "group":
            parsed.append(_group(item, path, depth + 1))
        else:
            parsed.append(Condition(str(kind), _CONDITIONS[str(kind)](item, path)))
    return Group(str(match), tuple(parsed))


def _url(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "include", "exclude"))
    include = _strings(raw, "include", where, MAX_PATTERN, required=False)
    exclude = _strings(raw, "exclude", where, MAX_PATTERN, required=False)
    if not include and not exclude:
        raise field_error(
            f"{where}.include",
            f'{where} needs URL patterns to include (or exclude), like "https://shop/products/*".',
        )
    return {"include": include, "exclude": exclude}


def _in_list(kind: str, pattern: re.Pattern[str] | None, upper: bool = False) -> Any:
    def parse(raw: dict[str, Any], where: str) -> dict[str, Any]:
        _keys(raw, where, ("type", "in"))
        values = _strings(raw, "in", where, 200, required=True)
        if upper:
            values = [v.upper() for v in values]
        elif pattern is not None:
            values = [v.lower() for v in values]
        for index, value in enumerate(values):
            if pattern is not None and not pattern.fullmatch(value):
                raise field_error(f"{where}.in[{index}]", f"{where}.in[{index}] is not a {kind}.")
        return {"in": values}

    return parse


def _time_on_page(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "seconds"))
    return {"seconds": _whole(raw, "seconds", f"{where}.seconds", 1, 86400)}


def _checkout_abandoned(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "minutes"))
    return {"minutes": _whole(raw, "minutes", f"{where}.minutes", 1, 7 * 1440)}


def _cart_value(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "min", "max"))
    low, high = (_money(raw.get(k), f"{where}.{k}") for k in ("min", "max"))
    _bounds(low, high, where)
    return {"min": None if low is None else str(low), "max": None if high is None else str(high)}


def _cart_items(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "min", "max"))
    low = None if raw.get("min") is None else _whole(raw, "min", f"{where}.min", 0, 100_000)
    high = None if raw.get("max") is None else _whole(raw, "max", f"{where}.max", 0, 100_000)
    _bounds(low, high, where)
    return {"min": low, "max": high}


def _exit_intent(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type",))
    return {}


def _visitor(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "is"))
    if raw.get("is") not in VISITOR_KINDS:
        raise field_error(f"{where}.is", f'{where}.is is "new" or "returning".')
    return {"is": raw["is"]}


def _utm(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", *UTM_KEYS))
    out = {key: _strings(raw, key, where, 200, required=False) for key in UTM_KEYS if key in raw}
    if not any(out.values()):
        raise field_error(
            f"{where}.source", f"{where} needs a list of values for source, campaign, ..."
        )
    return {key: [v.lower() for v in values] for key, values in out.items() if values}


def _business_hours(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "inside"))
    inside = raw.get("inside", True)
    if not isinstance(inside, bool):
        raise field_error(f"{where}.inside", f"{where}.inside is true or false.")
    return {"inside": inside}


def _event(raw: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(raw, where, ("type", "name", "where"))
    name = raw.get("name")
    if not isinstance(name, str) or not _EVENT_NAME.fullmatch(name):
        raise field_error(
            f"{where}.name", f"{where}.name is an event name of a-z, 0-9, _ . - (1 to 64)."
        )
    filters = raw.get("where", [])
    if not isinstance(filters, list) or len(filters) > MAX_WHERE:
        raise field_error(f"{where}.where", f"{where}.where is a list of at most {MAX_WHERE}.")
    out = []
    for index, item in enumerate(filters):
        path = f"{where}.where[{index}]"
        if not isinstance(item, dict):
            raise field_error(path, f'{path} is {{"property", "op", "value"}}.')
        _keys(item, path, ("property", "op", "value"))
        prop = item.get("property")
        if not isinstance(prop, str) or not 1 <= len(prop) <= 64:
            raise field_error(f"{path}.property", f"{path}.property is a property name.")
        op = item.get("op", "eq")
        if op not in OPS:
            raise field_error(f"{path}.op", f"{path}.op is one of {', '.join(OPS)}.")
        value = item.get("value")
        if not isinstance(value, Scalar) or (isinstance(value, str) and len(value) > 200):
            raise field_error(f"{path}.value", f"{path}.value is a string, number or boolean.")
        if op in ("gt", "gte", "lt", "lte") and _number(value) is None:
            raise field_error(f"{path}.value", f"{path}.value is a number for {op}.")
        out.append({"property": prop, "op": op, "value": value})
    return {"name": name, "where": out}


_CONDITIONS = {
    "url": _url,
    "product": _in_list("product slug", None),
    "category": _in_list("category", None),
    "time_on_page": _time_on_page,
    "cart_value": _cart_value,
    "cart_items": _cart_items,
    "checkout_abandoned": _checkout_abandoned,
    "exit_intent": _exit_intent,
    "visitor": _visitor,
    "country": _in_list("two-letter country code", _COUNTRY, upper=True),
    "language": _in_list("base language code like es", _LANGUAGE),
    "utm": _utm,
    "business_hours": _business_hours,
    "event": _event,
}


def _actions(raw: object) -> Actions:
    if not isinstance(raw, dict):
        raise field_error("actions", "actions is an object: message, coupon, open_widget, ...")
    _keys(raw, "actions", ("message", "coupon", "open_widget", "notify_agents"))
    texts = None
    message = raw.get("message")
    if message is not None:
        if not isinstance(message, dict):
            raise field_error("actions.message", 'actions.message is {"texts": {"en": "..."}}.')
        _keys(message, "actions.message", ("texts",))
        texts = _texts(message.get("texts"))
    pool_id = None
    coupon = raw.get("coupon")
    if coupon is not None:
        if not isinstance(coupon, dict):
            raise field_error("actions.coupon", 'actions.coupon is {"pool_id": 3} or null.')
        _keys(coupon, "actions.coupon", ("pool_id",))
        pool_id = _whole(coupon, "pool_id", "actions.coupon.pool_id", 1, 2**62)
        if texts is None:
            raise field_error(
                "actions.coupon", "A coupon is offered in a message: give actions.message too."
            )
    flags = {}
    for name in ("open_widget", "notify_agents"):
        value = raw.get(name, False)
        if not isinstance(value, bool):
            raise field_error(f"actions.{name}", f"actions.{name} is true or false.")
        flags[name] = value
    if flags["open_widget"] and texts is None:
        raise field_error("actions.open_widget", "The widget opens on a message: give one.")
    if texts is None and not flags["notify_agents"]:
        raise field_error(
            "actions.message", "A rule does something: send a message, notify agents, or both."
        )
    return Actions(texts, pool_id, flags["open_widget"], flags["notify_agents"])


def _texts(raw: object) -> dict[str, str]:
    where = "actions.message.texts"
    if not isinstance(raw, dict) or not 1 <= len(raw) <= MAX_TEXTS:
        raise field_error(
            where, f'{where} maps 1 to {MAX_TEXTS} languages to texts: {{"en": ...}}.'
        )
    out: dict[str, str] = {}
    for key, text in raw.items():
        code = str(key).strip().lower()
        if not _LANGUAGE.fullmatch(code):
            raise field_error(f"{where}.{key}", f"{key!r} is not a base language code like es.")
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_TEXT:
            raise field_error(f"{where}.{key}", f"{where}.{key} is text of 1 to {MAX_TEXT}.")
        out[code] = text.strip()
    return out


def _keys(raw: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    for key in raw:
        if key not in known:
            path = f"{where}.{key}" if where else str(key)
            raise field_error(path, f"{where or 'A rule'} has no field {key!r}.")


def _whole(
    raw: Mapping[str, Any], key: str, path: str, low: int, high: int, *, default: int | None = None
) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise field_error(path, f"{path} is a whole number from {low} to {high}.")
    return value


def _strings(
    raw: Mapping[str, Any], key: str, where: str, limit: int, *, required: bool
) -> list[str]:
    path = f"{where}.{key}"
    values = raw.get(key, [] if not required else None)
    if not isinstance(values, list) or len(values) > MAX_LIST or (required and not values):
        raise field_error(path, f"{path} is a list of 1 to {MAX_LIST} texts.")
    out = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
            raise field_error(f"{path}[{index}]", f"{path}[{index}] is text of 1 to {limit}.")
        out.append(value.strip())
    return out


def _money(value: object, path: str) -> Decimal | None:
    if value is None:
        return None
    amount = _number(value)
    if amount is None or amount < 0:
        raise field_error(path, f"{path} is an amount (0 or more) or null.")
    return amount


def _number(value: object) -> Decimal | None:
    """A finite number from a JSON number or a decimal string; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _bounds(low: Decimal | int | None, high: Decimal | int | None, where: str) -> None:
    if low is None and high is None:
        raise field_error(f"{where}.min", f"{where} needs min, max or both.")
    if low is not None and high is not None and low > high:
        raise field_error(f"{where}.max", f"{where}.max is at least min.")


def as_number(value: object) -> Decimal | None:
    """Money and counts as they arrive in events: numbers or decimal strings."""
    return _number(value)


__all__ = [
    "TIMED",
    "Actions",
    "Condition",
    "Group",
    "Rule",
    "as_number",
    "parse_rule",
    "read_actions",
    "read_group",
    "rule_to_dict",
]
