"""Shopping-behaviour events as the widget reports them: checked and normalised here,
pure, before anything is stored (docs/protocol.md, "track").

A batch is checked whole: one event that cannot be read refuses the batch, with the
index and client_id of each bad event in the error's details, so the sender can drop
exactly those and send the rest again. Nothing of a refused batch is stored.

Event types and their `data` are the contract other parts read (trigger rules,
analytics): anything not listed for a type is dropped, and a custom event carries its
name and at most MAX_PROPERTIES flat scalar properties.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from portside.errors import PortsideError

MAX_BATCH = 50
MAX_URL = 2000
MAX_TITLE = 500
MAX_TEXT = 500
MAX_PROPERTIES = 20
MAX_DATA_BYTES = 4096
MAX_MS = 24 * 3600 * 1000  # a page time above a day is a clock gone wrong
MAX_QUANTITY = 100_000
MAX_MONEY = Decimal("1000000000")

STANDARD_TYPES = frozenset(
    {
        "page_view",
        "page_time",
        "visibility",
        "idle",
        "exit_intent",
        "add_to_cart",
        "checkout_started",
        "checkout_completed",
        "proactive_closed",
    }
)
EVENT_TYPES = STANDARD_TYPES | {"custom"}
UTM_KEYS = ("source", "medium", "campaign", "term", "content")

# Used with fullmatch: "$" alone would let a trailing newline through.
CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
SESSION_ID = CLIENT_ID
CUSTOM_NAME = re.compile(r"[a-z0-9_.-]{1,64}")
PROPERTY_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,199}")
_CURRENCY = re.compile(r"[A-Za-z]{3}")


class InvalidEvent(PortsideError):
    """One or more events of a batch cannot be read; `details` names each one."""

    code = "invalid_event"


class InvalidBatch(PortsideError):
    """The batch itself is not one: no list of events, too many, no session id."""

    code = "invalid_request"


@dataclass(frozen=True)
class TrackedEvent:
    client_id: str
    type: str
    url: str | None
    data: dict[str, Any]


class _Problem(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def check_session_id(value: object) -> str:
    if not isinstance(value, str) or not SESSION_ID.fullmatch(value):
        raise InvalidBatch("session_id is 1-64 letters, digits or _.:- characters.")
    return value


def check_batch(raw: object) -> list[TrackedEvent]:
    """The events of a batch, normalised; raises InvalidBatch or InvalidEvent."""
    if not isinstance(raw, list) or not raw:
        raise InvalidBatch("events is a non-empty list of events.")
    if len(raw) > MAX_BATCH:
        raise InvalidBatch(f"A batch has at most {MAX_BATCH} events, not {len(raw)}.")
    events: list[TrackedEvent] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        client_id = item.get("client_id") if isinstance(item, dict) else None
        try:
            events.append(check_event(item))
        except _Problem as exc:
            problems.append(
                {
                    "index": index,
                    "client_id": client_id if isinstance(client_id, str) else None,
                    "field": exc.field,
                    "problem": exc.problem,
                }
            )
    if problems:
        first = problems[0]
        raise InvalidEvent(
            f"{len(problems)} of {len(raw)} events cannot be read; the first "
            f"(#{first['index']}): {first['problem']}",
            details=problems,
        )
    return events


def check_event(raw: object) -> TrackedEvent:
    if not isinstance(raw, dict):
        raise _Problem("event", "An event is a JSON object.")
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise _Problem("client_id", "client_id is 1-64 letters, digits or _.:- characters.")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise _Problem(
            "type", f"type is one of {', '.join(sorted(EVENT_TYPES))}, not {str(kind)[:64]!r}."
        )
    at = raw.get("at")
    if at is not None and (not _is_number(at) or at < 0):
        raise _Problem("at", "at is the client's time in milliseconds since 1970, or absent.")
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Problem("data", "data is a JSON object.")
    url = _optional_url(raw.get("url"), "url")
    clean = _DATA[kind](data)
    if kind == "page_view":
        url = clean["url"]
    size = len(json.dumps(clean, ensure_ascii=False).encode())
    if size > MAX_DATA_BYTES:
        raise _Problem("data", f"data takes at most {MAX_DATA_BYTES} bytes, not {size}.")
    return TrackedEvent(client_id=client_id, type=kind, url=url, data=clean)


def parse_utm(url: str | None) -> dict[str, str]:
    """utm_source, utm_medium, ... of a URL's query, by their short names (only those
    present and not empty)."""
    if not url:
        return {}
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        name = key.lower().removeprefix("utm_")
        if key.lower().startswith("utm_") and name in UTM_KEYS and name not in out:
            text = value.strip()[:200]
            if text:
                out[name] = text
    return out


def _page_view(data: dict[str, Any]) -> dict[str, Any]:
    url = _optional_url(data.get("url"), "data.url")
    if url is None:
        raise _Problem("data.url", "A page_view needs the page's http(s) url.")
    utm = _utm(data.get("utm")) or parse_utm(url)
    out: dict[str, Any] = {
        "url": url,
        "title": _optional_text(data.get("title"), "data.title", MAX_TITLE),
        "product": _optional_slug(data.get("product"), "data.product"),
        "category": _optional_text(data.get("category"), "data.category", 200),
        "referrer": _optional_url(data.get("referrer"), "data.referrer", empty_ok=True),
    }
    if utm:
        out["utm"] = utm
    return out


def _page_time(data: dict[str, Any]) -> dict[str, Any]:
    return {"visible_ms": _ms(data, "visible_ms"), "idle_ms": _ms(data, "idle_ms")}


def _flag(name: str) -> Any:
    def check(data: dict[str, Any]) -> dict[str, Any]:
        value = data.get(name)
        if not isinstance(value, bool):
            raise _Problem(f"data.{name}", f"data.{name} is true or false.")
        return {name: value}

    return check


def _add_to_cart(data: dict[str, Any]) -> dict[str, Any]:
    quantity = data.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise _Problem("data.quantity", "data.quantity is a whole number.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise _Problem("data.quantity", f"data.quantity is from 1 to {MAX_QUANTITY}.")
    return {
        "product": _optional_text(data.get("product"), "data.product", 200),
        "quantity": quantity,
        "price": _money(data.get("price"), "data.price"),
        "currency": _currency(data.get("currency")),
        "cart_value": _money(data.get("cart_value"), "data.cart_value"),
        "cart_items": _count(data.get("cart_items"), "data.cart_items"),
    }


def _checkout_started(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "cart_value": _money(data.get("cart_value"), "data.cart_value"),
        "cart_items": _count(data.get("cart_items"), "data.cart_items"),
        "currency": _currency(data.get("currency")),
    }


def _checkout_completed(data: dict[str, Any]) -> dict[str, Any]:
    order = data.get("order")
    if _is_number(order):
        order = str(order)
    return {
        "order": _optional_text(order, "data.order", 64),
        "value": _money(data.get("value"), "data.value"),
        "currency": _currency(data.get("currency")),
    }


def _proactive_closed(data: dict[str, Any]) -> dict[str, Any]:
    fire_id = data.get("fire_id")
    if isinstance(fire_id, bool) or not isinstance(fire_id, int) or fire_id < 1:
        raise _Problem("data.fire_id", "data.fire_id is the id of the proactive message.")
    return {"fire_id": fire_id}


def _custom(data: dict[str, Any]) -> dict[str, Any]:
    name = data.get("name")
    if not isinstance(name, str) or not CUSTOM_NAME.fullmatch(name):
        raise _Problem("data.name", "A custom event's name is 1-64 of a-z 0-9 _ . - characters.")
    raw = data.get("properties") or {}
    if not isinstance(raw, dict):
        raise _Problem("data.properties", "data.properties is a JSON object.")
    if len(raw) > MAX_PROPERTIES:
        raise _Problem(
            "data.properties", f"A custom event has at most {MAX_PROPERTIES} properties."
        )
    properties: dict[str, Any] = {}
    for key, value in raw.items():
        if not PROPERTY_KEY.fullmatch(key):
            raise _Problem(
                "data.properties", f"Property names are 1-64 of A-Z a-z 0-9 _ . -, not {key!r}."
            )
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise _Problem(
                    f"data.properties.{key}", f"A property's text is at most {MAX_TEXT} chars."
                )
        elif value is not None and not isinstance(value, bool) and not _is_number(value):
            raise _Problem(
                f"data.properties.{key}",
                "Properties are flat: text, numbers, true/false or null.",
            )
        properties[key] = value
    return {"name": name, "properties": properties}


_DATA: dict[str, Any] = {
    "page_view": _page_view,
    "page_time": _page_time,
    "visibility": _flag("visible"),
    "idle": _flag("idle"),
    "exit_intent": lambda _data: {},
    "add_to_cart": _add_to_cart,
    "checkout_started": _checkout_started,
    "checkout_completed": _checkout_completed,
    "proactive_closed": _proactive_closed,
    "custom": _custom,
}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _optional_url(value: object, field: str, *, empty_ok: bool = False) -> str | None:
    if value is None or (empty_ok and value == ""):
        return None
    if (
        not isinstance(value, str)
        or len(value) > MAX_URL
        or not value.startswith(("https://", "http://"))
        or not value.isprintable()
    ):
        raise _Problem(field, f"{field} is an http(s) address of at most {MAX_URL} characters.")
    return value


def _optional_text(value: object, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Problem(field, f"{field} is text.")
    value = value.strip()[:limit]
    return value or None


def _optional_slug(value: object, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise _Problem(field, f"{field} is a product's slug (letters, digits, _ and -).")
    return value


def _utm(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {
        key: text.strip()[:200]
        for key in UTM_KEYS
        if isinstance(text := value.get(key), str) and text.strip()
    }


def _ms(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, float) and math.isfinite(value):
        value = round(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MS:
        raise _Problem(f"data.{name}", f"data.{name} is milliseconds, from 0 to {MAX_MS}.")
    return value


def _count(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise _Problem(field, f"{field} is a whole number from 0 to {MAX_QUANTITY}, or null.")
    return value


def _money(value: object, field: str) -> str | None:
    """A money amount as a plain decimal string ("59.90"), from a number or a string."""
    if value is None or value == "":
        return None
    problem = _Problem(field, f"{field} is an amount, 0 or more: a number or a decimal string.")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise problem
    if isinstance(value, str) and (len(value) > 32 or not re.fullmatch(r"\d+(\.\d+)?", value)):
        raise problem
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise problem from None
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        raise problem
    return format(amount.quantize(Decimal("0.0001")).normalize(), "f")


def _currency(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise _Problem("data.currency", "data.currency is a three-letter code like EUR.")
    return value.upper()
