"""What the agent reads from the conversation's recent events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portside.agent.participant import _history
from portside.domain.conversations import Actor, ActorType, Event, EventType


def event(seq: int, actor: ActorType, **data: Any) -> Event:
    return Event(
        id=seq,
        store_id=1,
        conversation_id=1,
        visitor_id=1,
        seq=seq,
        type=EventType.MESSAGE_CREATED,
        at=datetime(2026, 11, 25, tzinfo=UTC),
        actor=Actor(actor),
        data=data,
    )


def test_history_gives_the_last_language_and_the_misunderstandings_in_a_row() -> None:
    recent = [
        event(1, ActorType.VISITOR, text="hola"),
        event(2, ActorType.BOT, text="¡Hola!", bot={"language": "es", "understood": True}),
        event(3, ActorType.VISITOR, text="blorp"),
        event(4, ActorType.BOT, text="?", bot={"language": "es", "understood": False}),
        event(5, ActorType.VISITOR, text="flim"),
        event(6, ActorType.BOT, text="?", bot={"language": "es", "understood": False}),
    ]
    assert _history(recent) == ("es", 2)
    assert _history(recent[:2]) == ("es", 0)
    assert _history([]) == (None, 0)
