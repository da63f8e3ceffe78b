"""Evaluating trigger rules against what a visitor did (docs/engagement.md).

A `VisitorState` is built by applying the visitor's shopping events in order (the same
events whether they arrive live or are read back after a restart); `evaluate` says
whether a rule's conditions hold at a moment, `next_due` when time alone could make a
timed condition true (the engine sets a timer for it), `cap_refusal` whether the
frequency caps forbid contacting the visitor now, and `in_holdout` whether the visitor
is in the rule's control share. Pure: no I/O, time is passed in.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from portside.domain.translation import base_language
from portside.domain.trigger_rules import Condition, Group, as_number

# A visitor first seen this long before their current session is a returning one.
RETURNING_AFTER = timedelta(minutes=30)
# The store's own events kept per visitor for `event` conditions.
CUSTOM_KEPT = 50
# A "typing" signal without its end counts this long.
TYPING_FOR = timedelta(seconds=15)


@dataclass
class VisitorState:
    """What the rules need to know about one visitor, as of their last event."""

    visitor_id: int
    language: str | None = None
    country: str | None = None
    created_at: datetime | None = None
    session_id: str | None = None
    session_started_at: datetime | None = None
    earlier_session: bool = False
    # The page they are on, since when, and how long it has been visible.
    url: str | None = None
    title: str | None = None
    product: str | None = None
    category: str | None = None
    page_since: datetime | None = None
    visible: bool = True
    visible_since: datetime | None = None
    visible_s: float = 0.0
    exit_intent_at: datetime | None = None
    cart_value: Decimal | None = None
    cart_items: int | None = None
    checkout_started_at: datetime | None = None
    checkout_completed_at: datetime | None = None
    utm: dict[str, str] = field(default_factory=dict)
    custom: deque[tuple[str, Mapping[str, Any], datetime]] = field(
        default_factory=lambda: deque(maxlen=CUSTOM_KEPT)
    )
    closed_at: datetime | None = None
    last_event_id: int = 0

    def time_on_page(self, now: datetime) -> float:
        """Visible seconds on the current page."""
        if self.page_since is None:
            return 0.0
        running = 0.0
        if self.visible and self.visible_since is not None:
            running = max(0.0, (now - self.visible_since).total_seconds())
        return self.visible_s + running

    def returning(self, now: datetime) -> bool:
        if self.earlier_session:
            return True
        started = self.session_started_at or now
        return self.created_at is not None and started - self.created_at > RETURNING_AFTER

    def checkout_pending_since(self) -> datetime | None:
        """When the checkout started that has not been completed since, if any."""
        started, completed = self.checkout_started_at, self.checkout_completed_at
        if started is None or (completed is not None and completed >= started):
            return None
        return started

    def describe(self, now: datetime) -> dict[str, Any]:
        """What held when a rule fired: kept with the fire, shown to agents."""
        return {
            "url": self.url,
            "title": self.title,
            "product": self.product,
            "category": self.category,
            "cart_value": None if self.cart_value is None else str(self.cart_value),
            "cart_items": self.cart_items,
            "time_on_page_s": round(self.time_on_page(now)),
            "language": self.language,
            "country": self.country,
        }


def apply_event(
    state: VisitorState, event: Mapping[str, Any], session_id: str | None = None
) -> None:
    """Move `state` past one stored visitor event (contracts: visitor events)."""
    at: datetime = event["at"]
    data = event.get("data") or {}
    if not isinstance(data, Mapping):
        data = {}
    event_id = event.get("id")
    if isinstance(event_id, int):
        state.last_event_id = max(state.last_event_id, event_id)
    session = session_id or event.get("session_id")
    if isinstance(session, str) and session != state.session_id:
        if state.session_id is not None:
            state.earlier_session = True
        state.session_id = session
        state.session_started_at = at
    kind = event.get("type")
    if kind == "page_view":
        state.url = _str(data.get("url")) or _str(event.get("url"))
        state.title = _str(data.get("title"))
        state.product = _str(data.get("product"))
        state.category = _str(data.get("category"))
        state.page_since = state.visible_since = at
        state.visible, state.visible_s = True, 0.0
        state.exit_intent_at = None
        utm = data.get("utm")
        if isinstance(utm, Mapping) and utm:
            state.utm = {str(k): str(v).lower() for k, v in utm.items() if v is not None}
    elif kind == "visibility":
        visible = data.get("visible") is True
        if state.visible and not visible and state.visible_since is not None:
            state.visible_s += max(0.0, (at - state.visible_since).total_seconds())
        if visible and not state.visible:
            state.visible_since = at
        state.visible = visible
    elif kind == "exit_intent":
        state.exit_intent_at = at
    elif kind in ("add_to_cart", "checkout_started"):
        value = as_number(data.get("cart_value"))
        if value is not None:
            state.cart_value = value
        items = as_number(data.get("cart_items"))
        if items is not None:
            state.cart_items = int(items)
        if kind == "checkout_started":
            state.checkout_started_at = at
    elif kind == "checkout_completed":
        state.checkout_completed_at = at
        state.cart_value, state.cart_items = Decimal(0), 0
    elif kind == "proactive_closed":
        state.closed_at = at
    elif kind == "custom":
        name = data.get("name")
        properties = data.get("properties")
        if isinstance(name, str):
            state.custom.append((name, properties if isinstance(properties, Mapping) else {}, at))


def evaluate(
    group: Group, state: VisitorState, now: datetime, *, open_now: bool | None = None
) -> bool:
    """Whether the conditions hold for the visitor at `now`; `open_now` whether a person
    can be reached (business hours; None: unknown, so business_hours never holds)."""
    results = (
        evaluate(c, state, now, open_now=open_now)
        if isinstance(c, Group)
        else _holds(c, state, now, open_now)
        for c in group.conditions
    )
    return all(results) if group.match == "all" else any(results)


def next_due(group: Group, state: VisitorState, now: datetime) -> datetime | None:
    """The next moment after `now` at which a timed condition of the group becomes true
    with nothing else happening; None if none will."""
    due: list[datetime] = []
    for item in _walk(group):
        if item.type == "time_on_page" and state.page_since is not None and state.visible:
            left = float(item.fields["seconds"]) - state.time_on_page(now)
            if left > 0:
                # Rounded up: at the moment given, the condition holds.
                due.append(now + timedelta(microseconds=math.ceil(left * 1_000_000)))
        elif item.type == "checkout_abandoned":
            since = state.checkout_pending_since()
            if since is not None:
                when = since + timedelta(minutes=int(item.fields["minutes"]))
                if when > now:
                    due.append(when)
    return min(due) if due else None


def _walk(group: Group) -> Iterable[Condition]:
    for item in group.conditions:
        if isinstance(item, Group):
            yield from _walk(item)
        else:
            yield item


def _holds(item: Condition, state: VisitorState, now: datetime, open_now: bool | None) -> bool:
    f = item.fields
    kind = item.type
    if kind == "url":
        return state.url is not None and _url_matches(state.url, f["include"], f["exclude"])
    if kind == "product":
        return state.product is not None and state.product in f["in"]
    if kind == "category":
        wanted = {c.casefold() for c in f["in"]}
        return state.category is not None and state.category.casefold() in wanted
    if kind == "time_on_page":
        return state.page_since is not None and state.time_on_page(now) >= f["seconds"]
    if kind == "cart_value":
        return _between(state.cart_value or Decimal(0), f["min"], f["max"])
    if kind == "cart_items":
        return _between(Decimal(state.cart_items or 0), f["min"], f["max"])
    if kind == "checkout_abandoned":
        since = state.checkout_pending_since()
        return since is not None and now - since >= timedelta(minutes=f["minutes"])
    if kind == "exit_intent":
        return state.exit_intent_at is not None
    if kind == "visitor":
        return state.returning(now) is (f["is"] == "returning")
    if kind == "country":
        return state.country is not None and state.country.upper() in f["in"]
    if kind == "language":
        return base_language(state.language) in f["in"]
    if kind == "utm":
        return all(state.utm.get(key) in values for key, values in f.items())
    if kind == "business_hours":
        return open_now is not None and open_now is f["inside"]
    if kind == "event":
        return any(
            name == f["name"] and all(_compare(props, w) for w in f["where"])
            for name, props, _at in state.custom
        )
    return False


def _between(value: Decimal, low: object, high: object) -> bool:
    low_n, high_n = as_number(low), as_number(high)
    return (low_n is None or value >= low_n) and (high_n is None or value <= high_n)


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str]:
    """A URL pattern where `*` stands for any run of characters."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE)


def _url_matches(url: str, include: list[str], exclude: list[str]) -> bool:
    if include and not any(_pattern(p).fullmatch(url) for p in include):
        return False
    return not any(_pattern(p).fullmatch(url) for p in exclude)


def _compare(properties: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    if where["property"] not in properties:
        return False
    have, want, op = properties[where["property"]], where["value"], where["op"]
    if op in ("eq", "ne"):
        same = _equal(have, want)
        return same if op == "eq" else not same
    if op == "contains":
        return str(want).casefold() in str(have).casefold()
    a, b = _num(have), as_number(want)
    if a is None or b is None:
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def _equal(have: object, want: object) -> bool:
    if isinstance(want, bool) or isinstance(have, bool):
        return have is want
    a, b = _num(have), _num(want)
    if a is not None and b is not None:
        return a == b
    return str(have).casefold() == str(want).casefold()


def _num(value: object) -> Decimal | None:
    return None if isinstance(value, bool) else as_number(value)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Caps:
    """A store's frequency caps (its `engagement` settings)."""

    max_per_visitor_per_day: int = 3
    quiet_after_close_min: int = 30


def cap_refusal(
    caps: Caps,
    *,
    now: datetime,
    contacted_last_day: int,
    closed_at: datetime | None,
    typing: bool = False,
    with_person: bool = False,
) -> str | None:
    """Why the visitor may not be contacted now ("typing", "with_person", "daily_cap",
    "quiet_after_close"), or None if they may. Once per visitor per rule is kept by the
    database (one fire a rule and visitor)."""
    if typing:
        return "typing"
    if with_person:
        return "with_person"
    if contacted_last_day >= caps.max_per_visitor_per_day:
        return "daily_cap"
    if closed_at is not None and now - closed_at < timedelta(minutes=caps.quiet_after_close_min):
        return "quiet_after_close"
    return None


def holdout_bucket(trigger_id: int, visitor_id: int) -> int:
    """0-99, the same for a visitor and rule on every node and every run."""
    digest = hashlib.sha256(f"{trigger_id}:{visitor_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100


def in_holdout(trigger_id: int, visitor_id: int, holdout_pct: int) -> bool:
    return holdout_bucket(trigger_id, visitor_id) < holdout_pct


def choose_text(
    texts: Mapping[str, str], languages: Iterable[str | None], default_language: str | None
) -> tuple[str, str]:
    """(language, text): the first of `languages` the rule has a text for (base codes),
    else the store's default language, else the rule's first text."""
    for tag in (*languages, default_language):
        code = base_language(tag)
        if code is not None and code in texts:
            return code, texts[code]
    first = next(iter(texts))
    return first, texts[first]
