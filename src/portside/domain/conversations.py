"""The conversation state machine and the rules of its event log."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from portside.errors import InvalidClientId, InvalidTransition, MessageEmpty, MessageTooLong


class Status(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class EventType(StrEnum):
    CONVERSATION_CREATED = "conversation.created"
    MESSAGE_CREATED = "message.created"
    NOTE_CREATED = "note.created"
    STATUS_CHANGED = "conversation.status_changed"
    CONTEXT_UPDATED = "conversation.context_updated"
    # What the bot hands a person with the conversation (see docs/protocol.md).
    HANDOFF_CONTEXT = "conversation.handoff_context"
    # The shopper is asked to rate a resolution, and answers (services/csat.py).
    CSAT_REQUESTED = "csat.requested"
    CSAT_RATED = "csat.rated"
    # An agent's reply went out by email to a shopper who had left, or could not
    # (services/email_out.py); agents only.
    MESSAGE_EMAILED = "message.emailed"
    # A shopper's message translated for agents, kept so it is translated once.
    MESSAGE_TRANSLATED = "message.translated"
    # What a speech-to-text or vision provider made of an attachment
    # (services/attachments.py); agents only.
    ATTACHMENT_TRANSCRIBED = "attachment.transcribed"
    ATTACHMENT_DESCRIBED = "attachment.described"
    # A voice note's transcript, the words alone, for the shopper too: written with
    # `attachment.transcribed` when the store shows transcripts to shoppers.
    ATTACHMENT_TRANSCRIPT_SHARED = "attachment.transcript_shared"


class ActorType(StrEnum):
    VISITOR = "visitor"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


# Events an agent sees but a shopper never does.
INTERNAL_EVENTS = frozenset(
    {
        EventType.NOTE_CREATED,
        EventType.CONTEXT_UPDATED,
        EventType.HANDOFF_CONTEXT,
        EventType.MESSAGE_EMAILED,
        EventType.MESSAGE_TRANSLATED,
        EventType.ATTACHMENT_TRANSCRIBED,
        EventType.ATTACHMENT_DESCRIBED,
    }
)

# Who may move a conversation from one state to another. A move to ASSIGNED from
# ASSIGNED is a transfer; RESOLVED -> BOT happens when the shopper writes again.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.BOT: frozenset({Status.QUEUED, Status.ASSIGNED, Status.RESOLVED}),
    Status.QUEUED: frozenset({Status.BOT, Status.ASSIGNED, Status.RESOLVED}),
    Status.ASSIGNED: frozenset({Status.BOT, Status.QUEUED, Status.ASSIGNED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.BOT, Status.ASSIGNED}),
}

# An inbox row shows the start of the last message.
PREVIEW_CHARS = 200

CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def check_transition(current: Status, target: Status) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"A conversation that is {current} cannot become {target}.")


def status_after_agent_reply(current: Status) -> Status | None:
    """An agent who replies takes the conversation unless it is already assigned."""
    if current in (Status.BOT, Status.QUEUED):
        return Status.ASSIGNED
    if current is Status.RESOLVED:
        return Status.ASSIGNED
    return None


def status_after_visitor_message(current: Status) -> Status | None:
    """A shopper who writes in a resolved conversation reopens it to the bot."""
    return Status.BOT if current is Status.RESOLVED else None


def clean_text(text: object, max_chars: int) -> str:
    if not isinstance(text, str):
        raise MessageEmpty("A message needs text.")
    cleaned = text.strip()
    if not cleaned:
        raise MessageEmpty("A message cannot be empty.")
    if len(cleaned) > max_chars:
        raise MessageTooLong(
            f"A message can have at most {max_chars} characters; this one has {len(cleaned)}."
        )
    return cleaned


def check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise InvalidClientId(
            "client_id must be 1-64 characters of letters, digits and _ . : - "
            "made by the client for each message."
        )
    return client_id


@dataclass(frozen=True)
class Standing:
    """Where a conversation stands after a change: its status and the agent who has it.

    Published with its events, so that live delivery can go to the agents it concerns.
    """

    status: Status
    assignee_id: int | None = None


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: int | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Event:
    """One entry of a conversation's log, as stored and as sent on the wire."""

    id: int
    store_id: int
    conversation_id: int
    visitor_id: int
    seq: int
    type: EventType
    at: datetime
    actor: Actor
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.type in INTERNAL_EVENTS

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "type": self.type.value,
            "at": format_time(self.at),
            "actor": self.actor.to_dict(),
            "data": self.data,
        }


def format_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
