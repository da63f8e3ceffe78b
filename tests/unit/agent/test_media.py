"""What the agent makes of photos: their intent, and a return case's evidence
(agent/media.py, its pure part)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portside.agent.intents import Prediction
from portside.agent.media import Heard, case_photos, photo_intent
from portside.agent.replies import default_replies
from portside.domain.conversations import Actor, ActorType, Event, EventType

REPLIES = default_replies()
UNSURE = Prediction("greeting", 0.2, "order_status", 0.1)
SURE_STATUS = Prediction("order_status", 0.9, "greeting", 0.05)


def message(seq: int, actor: ActorType, **data: Any) -> Event:
    return Event(
        seq,
        1,
        1,
        1,
        seq,
        EventType.MESSAGE_CREATED,
        datetime(2026, 1, 1, tzinfo=UTC),
        Actor(actor),
        {"text": "", **data},
    )


def test_a_caption_about_damage_starts_a_return_in_any_language() -> None:
    photo = Heard("", photos=(7,))
    for lang, caption in (
        ("en", "it arrived like this"),
        ("es", "llegó roto"),
        ("zh", "收到就这样"),
    ):
        assert photo_intent(REPLIES, lang, photo, caption, UNSURE).intent == "return_request"


def test_labels_speak_when_the_caption_does_not() -> None:
    for label, intent in (
        ("damaged_item", "return_request"),
        ("wrong_item", "return_request"),
        ("payment_error", "payment_problem"),
        ("size_label", "size_fit"),
    ):
        got = photo_intent(REPLIES, "en", Heard("", photos=(1,), labels=(label,)), "", UNSURE)
        assert (got.intent, got.confidence) == (intent, 1.0)
    # A sure caption about something else keeps its intent; "other" changes nothing.
    labelled = Heard("", photos=(1,), labels=("damaged_item",))
    assert photo_intent(REPLIES, "en", labelled, "where is my order", SURE_STATUS) == SURE_STATUS
    other = Heard("", photos=(1,), labels=("other",))
    assert photo_intent(REPLIES, "en", other, "", UNSURE) == UNSURE
    assert photo_intent(REPLIES, "en", Heard("hi"), "it arrived like this", UNSURE) == UNSURE


def test_a_case_keeps_the_photos_of_its_flow_only() -> None:
    flow = {"bot": {"intent": "return_request", "flow": {"name": "return_request"}}}
    events = [
        message(1, ActorType.VISITOR, attachments=[{"id": 1, "kind": "image"}]),
        message(2, ActorType.BOT, bot={"intent": "greeting"}),
        message(3, ActorType.VISITOR, attachments=[{"id": 2, "kind": "image"}]),
        message(4, ActorType.BOT, **flow),
        message(5, ActorType.VISITOR, attachments=[{"id": 3, "kind": "voice"}]),
        message(6, ActorType.BOT, bot={"intent": "photo", "photos": [4]}),
        message(7, ActorType.VISITOR, attachments=[{"id": 4, "kind": "image"}, {"id": 2}]),
    ]
    assert case_photos(events) == [2, 4]
