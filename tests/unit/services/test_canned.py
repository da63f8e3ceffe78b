"""Canned replies: the fields checked at save, the order named last in a conversation,
the language a reply is chosen in, the demo store's replies."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from portside.commerce.orders import demo_orders, tracking_url
from portside.domain.canned import check_template
from portside.domain.conversations import Actor, ActorType, Event, EventType
from portside.errors import InvalidRequest
from portside.services.canned import check_reply_language, check_shortcut, check_text
from portside.services.canned_render import base_language, named_orders, pick_language
from portside.services.demo import load_demo_canned_replies


def event(seq: int, kind: EventType, actor: ActorType, **data: Any) -> Event:
    return Event(
        id=seq,
        store_id=1,
        conversation_id=1,
        visitor_id=1,
        seq=seq,
        type=kind,
        at=datetime(2026, 12, 5, tzinfo=UTC),
        actor=Actor(actor),
        data=data,
    )


def test_the_order_named_last_comes_last_whoever_named_it() -> None:
    events = [
        event(1, EventType.MESSAGE_CREATED, ActorType.VISITOR, text="where is LP10231?"),
        event(
            2,
            EventType.MESSAGE_CREATED,
            ActorType.BOT,
            text="Which order?",
            bot={"flow": {"name": "order_status", "order": "LP10232"}},
        ),
        event(
            3,
            EventType.HANDOFF_CONTEXT,
            ActorType.BOT,
            orders=[{"number": "LP10231"}, {"number": "LP10234"}],
        ),
        event(4, EventType.NOTE_CREATED, ActorType.AGENT, text="LP99999 is a note"),
        event(5, EventType.MESSAGE_CREATED, ActorType.AGENT, text="Checking #10233 for you"),
    ]
    # As written: "#10233" is the store's LP10233 (services/order_lookup.py finds it).
    assert named_orders(events) == ["LP10232", "LP10231", "LP10234", "#10233"]
    assert named_orders(events[:3]) == ["LP10232", "LP10231", "LP10234"]
    # A bare number may be a postcode: it names no order.
    assert (
        named_orders([event(1, EventType.MESSAGE_CREATED, ActorType.VISITOR, text="28013")]) == []
    )


def versions(*languages: str) -> list[Any]:
    return [SimpleNamespace(id=i, language=lang) for i, lang in enumerate(languages)]


@pytest.mark.parametrize(
    ("languages", "shopper", "store", "chosen"),
    [
        (("de", "en", "es"), "es", "en", "es"),
        (("de", "en"), "es", "en", "en"),
        (("de", "fr"), "es", "en", "de"),
    ],
)
def test_a_reply_is_in_the_shoppers_language_else_the_stores_else_any(
    languages: tuple[str, ...], shopper: str, store: str, chosen: str
) -> None:
    assert pick_language(versions(*languages), shopper, store).language == chosen


@pytest.mark.parametrize(("tag", "base"), [("pt-BR", "pt"), ("zh_Hans", "zh"), ("EN", "en")])
def test_replies_are_per_language_not_region(tag: str, base: str) -> None:
    assert base_language(tag) == base


def test_shortcuts_are_short_lowercase_words() -> None:
    assert check_shortcut("/tracking") == "tracking"
    assert check_shortcut("return-label_2") == "return-label_2"
    for bad in ("Tracking", "two words", "", "-x", "x" * 65, 5, None):
        with pytest.raises(InvalidRequest) as caught:
            check_shortcut(bad)
        assert caught.value.details == [{"field": "shortcut", "problem": caught.value.message}]


def test_languages_are_codes_without_regions() -> None:
    assert check_reply_language("es") == "es"
    for bad in ("pt-BR", "xq", "EN", 3):
        with pytest.raises(InvalidRequest) as caught:
            check_reply_language(bad)
        assert caught.value.details == [{"field": "language", "problem": caught.value.message}]


def test_a_text_is_trimmed_checked_and_bounded() -> None:
    assert check_text("  Hi {first_name}  ", 4000) == "Hi {first_name}"
    with pytest.raises(InvalidRequest, match="at most 10 characters"):
        check_text("x" * 11, 10)
    with pytest.raises(InvalidRequest, match="needs its text"):
        check_text("   ", 4000)
    with pytest.raises(InvalidRequest, match="is not a variable"):
        check_text("Hi {nombre}", 4000)


def test_tracking_pages_come_from_the_order_or_its_carrier() -> None:
    orders = {o["number"]: o for o in demo_orders(datetime(2026, 12, 5, tzinfo=UTC).date())}
    assert (
        tracking_url(orders["LP10232"]) == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )
    assert tracking_url(orders["LP10231"]) == (
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1"
        "&tracking-id=JD014600003828"
    )
    # A carrier without a known page, or no parcel yet: nothing to link to.
    assert tracking_url(orders["LP10233"]) is None
    assert tracking_url(orders["LP10234"]) is None
    own = {**orders["LP10233"], "tracking_url": "https://track.example/4567"}
    assert tracking_url(own) == "https://track.example/4567"
    assert tracking_url({**orders["LP10232"], "tracking": "a b/c"}).endswith("tracknum=a%20b%2Fc")


def test_the_demo_replies_are_valid_and_in_several_languages() -> None:
    replies = load_demo_canned_replies()
    for reply in replies:
        check_shortcut(reply["shortcut"])
        check_reply_language(reply["language"])
        check_template(reply["text"])
    keys = [(r["shortcut"], r["language"]) for r in replies]
    assert len(keys) == len(set(keys))
    assert {r["language"] for r in replies if r["shortcut"] == "tracking"} >= {"en", "es", "zh"}
