"""The context packet a person gets with a handed-off conversation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portside.agent.handoff import Current, context_packet, default_lexicon, named_orders
from portside.agent.replies import default_replies
from portside.domain.conversations import Actor, ActorType, Event, EventType

SHIPPED = {"number": "LP10231", "status": "in_transit"}


def said(seq: int, actor: ActorType, text: str, **bot: Any) -> Event:
    data: dict[str, Any] = {"text": text}
    if bot:
        data["bot"] = bot
    return Event(
        id=seq,
        store_id=1,
        conversation_id=1,
        visitor_id=1,
        seq=seq,
        type=EventType.MESSAGE_CREATED,
        at=datetime(2026, 12, 4, tzinfo=UTC),
        actor=Actor(actor),
        data=data,
    )


def packet(events: list[Event], **kwargs: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {"reason": "asked_for_person", "language": "es", "orders": {}}
    return context_packet(default_replies(), default_lexicon(), events, **{**defaults, **kwargs})


ORDER_TALK = [
    said(1, ActorType.VISITOR, "hola, ¿dónde está mi pedido LP10231?"),
    said(
        2,
        ActorType.BOT,
        "¿Me das el email?",
        intent="order_status",
        understood=True,
        flow={"name": "order_status", "order": "LP10231"},
    ),
    said(3, ActorType.VISITOR, "ana.garcia@example.com"),
    said(
        4,
        ActorType.BOT,
        "Está en camino",
        intent="order_status",
        understood=True,
        verified_order="LP10231",
    ),
]


def test_a_packet_names_the_topic_the_order_and_its_proof_in_english() -> None:
    events = [*ORDER_TALK, said(5, ActorType.VISITOR, "quiero hablar con una persona")]
    result = packet(
        events,
        orders={"LP10231": SHIPPED},
        page={"url": "https://shop.example/p/x", "title": "X", "product": "x"},
        country="ES",
        timezone="Europe/Madrid",
    )
    assert result["intent"] == "order_status"
    assert result["intents"] == ["order_status"]
    assert result["orders"] == [{"number": "LP10231", "status": "in_transit", "verified": True}]
    assert result["summary"].startswith("The shopper, writing in Spanish, asked about ")
    assert "LP10231 (in_transit, verified)" in result["summary"]
    assert "Handed over because the shopper asked for a person." in result["summary"]
    assert result["summary"].endswith('Last message: "quiero hablar con una persona"')
    assert result["tried"] == [
        "asked the shopper to prove order LP10231 is theirs",
        f"answered about {default_replies().topic('en', 'order_status')}",
    ]
    assert (result["country"], result["timezone"], result["page"]["product"]) == (
        "ES",
        "Europe/Madrid",
        "x",
    )


def test_an_order_the_store_does_not_have_is_listed_as_not_found() -> None:
    events = [said(1, ActorType.VISITOR, "order #99999 never came")]
    result = packet(events, language="en", orders={"LP99999": None})
    assert result["orders"] == [{"number": "LP99999", "status": None, "verified": False}]
    assert "LP99999 (not found, not verified)" in result["summary"]
    assert "has not asked anything the bot recognised" in result["summary"]


def test_the_turn_being_answered_counts_though_it_is_not_in_the_log_yet() -> None:
    current = Current("我要退款，太差了!!", "refund_request", True)
    result = packet([], language="zh", current=current, reason="frustration")
    assert result["intent"] == "refund_request"
    assert result["sentiment"] == "negative"
    assert "Chinese" in result["summary"]
    assert result["summary"].endswith('Last message: "我要退款，太差了!!"')


def test_sentiment_reads_the_shoppers_words_in_their_language() -> None:
    calm = [said(1, ActorType.VISITOR, "¿tienen la camisa en azul?")]
    angry = [said(1, ActorType.VISITOR, "esto es ridículo, estoy harta")]
    glad = [said(1, ActorType.VISITOR, "perfecto, muchas gracias")]
    assert packet(calm)["sentiment"] == "neutral"
    assert packet(angry)["sentiment"] == "negative"
    assert packet(glad)["sentiment"] == "positive"
    # A word inside another word is not that word.
    assert (
        packet([said(1, ActorType.VISITOR, "my manger is here")], language="en")["sentiment"]
        == packet([said(1, ActorType.VISITOR, "my order is here")], language="en")["sentiment"]
    )


def test_the_same_question_asked_again_is_a_sign_the_answers_did_not_help() -> None:
    asked = [
        said(1, ActorType.VISITOR, "how long does shipping take"),
        said(2, ActorType.BOT, "5-8 days", intent="shipping_info", understood=True),
        said(3, ActorType.VISITOR, "but how long to canada"),
        said(4, ActorType.BOT, "5-8 days", intent="shipping_info", understood=True),
    ]
    assert packet(asked, language="en")["sentiment"] == "negative"
    assert packet(asked[:2], language="en")["sentiment"] == "neutral"


def test_misunderstandings_are_what_the_bot_tried_and_small_talk_is_not_a_topic() -> None:
    events = [
        said(1, ActorType.VISITOR, "hi"),
        said(2, ActorType.BOT, "Hello!", intent="greeting", understood=True),
        said(3, ActorType.VISITOR, "blorp"),
        said(4, ActorType.BOT, "?", intent="out_of_scope", understood=False),
        said(5, ActorType.VISITOR, "flim"),
        said(6, ActorType.BOT, "?", intent="out_of_scope", understood=False),
    ]
    result = packet(events, language="en", reason="not_understood")
    assert result["intents"] == [] and result["intent"] is None
    assert result["tried"] == ["could not understand the shopper"]
    assert "the bot did not understand twice in a row" in result["summary"]


def test_a_long_last_message_is_cut_for_the_summary() -> None:
    long = "a" * 500
    summary = packet([said(1, ActorType.VISITOR, long)], language="en")["summary"]
    quoted = summary.split('Last message: "')[1].rstrip('"')
    assert len(quoted) == 140 and quoted.endswith("…")


def test_named_orders_come_from_the_shopper_and_the_bots_flows_first_named_first() -> None:
    events = [
        said(1, ActorType.VISITOR, "my order lp-10231 and also #10240"),
        said(2, ActorType.BOT, "...", intent="order_status", flow={"order": "LP10300"}),
        said(3, ActorType.VISITOR, "postcode 28013"),
    ]
    # A bare number may be a postcode: only marked numbers are named, as written (the
    # participant finds the store's order of each, "#10240" being "LP10240").
    assert named_orders(events) == ["LP10300", "LP-10231", "#10240"]
    assert named_orders(events, "and #10231 again, or LP10250") == [
        "LP10300",
        "LP-10231",
        "#10240",
        "#10231",
        "LP10250",
    ]
