"""The conversation state machine, message rules and the wire form of events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portside.domain.conversations import (
    Actor,
    ActorType,
    Event,
    EventType,
    Status,
    check_client_id,
    check_transition,
    clean_text,
    format_time,
    status_after_agent_reply,
    status_after_visitor_message,
)
from portside.errors import InvalidClientId, InvalidTransition, MessageEmpty, MessageTooLong

PROTOCOL_DOC = Path(__file__).parents[3] / "docs" / "protocol.md"


def _documented_transitions() -> dict[tuple[Status, Status], bool]:
    """The `from \\ to` table of docs/protocol.md: a non-empty cell is an allowed move."""
    lines = PROTOCOL_DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| from \\ to"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    targets = [Status(name) for name in header[1:]]
    table: dict[tuple[Status, Status], bool] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        source = Status(cells[0])
        for target, cell in zip(targets, cells[1:], strict=True):
            table[source, target] = bool(cell)
    return table


DOCUMENTED = _documented_transitions()


def test_protocol_doc_lists_every_pair_of_states() -> None:
    assert set(DOCUMENTED) == {(a, b) for a in Status for b in Status}


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair, allowed in DOCUMENTED.items() if allowed],
    ids=lambda s: str(s),
)
def test_documented_transition_is_allowed(current: Status, target: Status) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair, allowed in DOCUMENTED.items() if not allowed],
    ids=lambda s: str(s),
)
def test_undocumented_transition_raises_invalid_transition(current: Status, target: Status) -> None:
    with pytest.raises(InvalidTransition, match=f"{current} cannot become {target}") as caught:
        check_transition(current, target)
    assert caught.value.code == "invalid_transition"


def test_transfer_between_agents_is_allowed_but_other_self_moves_are_not() -> None:
    check_transition(Status.ASSIGNED, Status.ASSIGNED)
    for status in (Status.BOT, Status.QUEUED, Status.RESOLVED):
        with pytest.raises(InvalidTransition):
            check_transition(status, status)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (Status.BOT, Status.ASSIGNED),
        (Status.QUEUED, Status.ASSIGNED),
        (Status.ASSIGNED, None),
        (Status.RESOLVED, Status.ASSIGNED),
    ],
)
def test_agent_reply_takes_a_conversation_unless_already_assigned(
    current: Status, expected: Status | None
) -> None:
    assert status_after_agent_reply(current) is expected


@pytest.mark.parametrize("current", list(Status))
def test_status_an_agent_reply_moves_to_is_an_allowed_transition(current: Status) -> None:
    target = status_after_agent_reply(current)
    if target is not None:
        check_transition(current, target)


def test_resolved_conversation_reopens_to_bot_when_shopper_writes() -> None:
    assert status_after_visitor_message(Status.RESOLVED) is Status.BOT
    check_transition(Status.RESOLVED, Status.BOT)


@pytest.mark.parametrize("current", [Status.BOT, Status.QUEUED, Status.ASSIGNED])
def test_shopper_message_leaves_an_open_conversation_as_it_is(current: Status) -> None:
    assert status_after_visitor_message(current) is None


def test_clean_text_trims_surrounding_whitespace_only() -> None:
    assert clean_text("  \n hello   there \t", 4000) == "hello   there"


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n"])
def test_clean_text_refuses_empty_messages(text: str) -> None:
    with pytest.raises(MessageEmpty, match="cannot be empty") as caught:
        clean_text(text, 4000)
    assert caught.value.code == "message_empty"


@pytest.mark.parametrize("text", [None, 42, b"hello", ["hello"], {"text": "hello"}])
def test_clean_text_refuses_non_text(text: object) -> None:
    with pytest.raises(MessageEmpty, match="needs text"):
        clean_text(text, 4000)


def test_clean_text_accepts_exactly_the_limit_after_trimming() -> None:
    assert clean_text(" " + "a" * 10 + " ", 10) == "a" * 10


def test_clean_text_refuses_too_long_text_and_says_how_long_it_was() -> None:
    with pytest.raises(MessageTooLong) as caught:
        clean_text("  " + "é" * 11 + "  ", 10)
    assert caught.value.code == "message_too_long"
    assert "at most 10 characters" in caught.value.message
    assert "this one has 11" in caught.value.message


@pytest.mark.parametrize(
    "client_id", ["a", "c-8f1e", "A.b:c_d-9", "x" * 64, "0123456789", "web:1700000000.5"]
)
def test_valid_client_ids_are_returned_unchanged(client_id: str) -> None:
    assert check_client_id(client_id) == client_id


@pytest.mark.parametrize(
    "client_id",
    [
        "",
        "x" * 65,
        "has space",
        "slash/id",
        "new\nline",
        "trailing-newline\n",
        "ünïcode",
        "١٢٣",  # Arabic-Indic digits are digits to Python, not to the protocol
        "emoji-🙂",
        None,
        42,
        b"bytes",
    ],
)
def test_invalid_client_ids_raise_invalid_client_id(client_id: object) -> None:
    with pytest.raises(InvalidClientId) as caught:
        check_client_id(client_id)
    assert caught.value.code == "invalid_client_id"


def _event(kind: EventType, **changes: object) -> Event:
    fields: dict[str, object] = {
        "id": 981,
        "store_id": 4,
        "conversation_id": 12,
        "visitor_id": 77,
        "seq": 7,
        "type": kind,
        "at": datetime(2026, 11, 25, 7, 1, 2, 123456, tzinfo=UTC),
        "actor": Actor(ActorType.AGENT, 3, "Mei"),
        "data": {"text": "It ships tomorrow.", "client_id": "c-8f1e"},
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


def test_event_to_wire_matches_the_documented_shape() -> None:
    assert _event(EventType.MESSAGE_CREATED).to_wire() == {
        "id": 981,
        "conversation_id": 12,
        "seq": 7,
        "type": "message.created",
        "at": "2026-11-25T07:01:02.123Z",
        "actor": {"type": "agent", "id": 3, "name": "Mei"},
        "data": {"text": "It ships tomorrow.", "client_id": "c-8f1e"},
    }


def test_event_on_the_wire_leaves_out_store_and_visitor() -> None:
    wire = _event(EventType.MESSAGE_CREATED).to_wire()
    assert "store_id" not in wire
    assert "visitor_id" not in wire


def test_system_actor_goes_on_the_wire_without_id_or_name() -> None:
    event = _event(EventType.CONTEXT_UPDATED, actor=Actor(ActorType.SYSTEM))
    assert event.to_wire()["actor"] == {"type": "system", "id": None, "name": None}


@pytest.mark.parametrize(
    ("kind", "internal"),
    [
        (EventType.CONVERSATION_CREATED, False),
        (EventType.MESSAGE_CREATED, False),
        (EventType.NOTE_CREATED, True),
        (EventType.STATUS_CHANGED, False),
        (EventType.CONTEXT_UPDATED, True),
    ],
)
def test_only_notes_and_context_updates_are_internal(kind: EventType, internal: bool) -> None:
    assert _event(kind).internal is internal


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 25, 7, 1, 2, 123456, tzinfo=UTC), "2026-11-25T07:01:02.123Z"),
        (datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC), "2026-01-05T09:00:00.000Z"),
        (datetime(2026, 1, 5, 9, 0, 0, 999999, tzinfo=UTC), "2026-01-05T09:00:00.999Z"),
        (datetime(2026, 1, 5, 9, 0, 0, 1000, tzinfo=UTC), "2026-01-05T09:00:00.001Z"),
    ],
)
def test_format_time_gives_utc_milliseconds_truncated(at: datetime, expected: str) -> None:
    assert format_time(at) == expected


def test_format_time_always_has_three_fraction_digits() -> None:
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", format_time(datetime(2026, 3, 1, tzinfo=UTC))
    )
