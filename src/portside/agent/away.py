"""The bot outside business hours: it says when a person is back, and takes an email.

When the shopper asks for a person (in words, or with the widget's button) and no team
is open, the conversation still goes to the queue, where people find it when they are
back; the bot tells the shopper when that is, in their language and local time, and
offers to continue by email. While the conversation waits, the bot keeps answering
(services/opening.py), and an email address the shopper writes is stored and
confirmed. Within business hours none of this happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portside.agent.dialogue import Reply
from portside.agent.off_hours import Shopper, details, find_email, off_hours_note
from portside.agent.replies import Replies
from portside.domain.conversations import Status
from portside.services.bot import do_send_bot_message, get_handoff_history
from portside.services.context import Services
from portside.services.off_hours import clean_email, do_save_visitor_email
from portside.services.opening import find_next_opening_cached

# Handoffs whose reply is only "I'm connecting you now": outside hours the note says it
# all instead. Other handoffs (a case opened, a store rule) keep what they said.
_PLAIN_HANDOFFS = frozenset({"asked_for_person", "frustration"})
EMAIL_INTENT = "contact_email"


@dataclass(frozen=True)
class Note:
    text: str
    opens_at: datetime

    @property
    def details(self) -> dict[str, Any]:
        return {"off_hours": details(self.opens_at)}


class OffHoursHelp:
    def __init__(self, svc: Services, replies: Replies) -> None:
        self.svc = svc
        self.replies = replies

    async def note(self, store_id: int, context: dict[str, Any], speaking: str) -> Note | None:
        """What to tell a shopper handed to the queue in this turn; None within hours.
        Read fresh: the moment of a handoff is worth the query."""
        opens_at = await find_next_opening_cached(
            self.svc, store_id, context.get("team_id"), fresh=True
        )
        if opens_at is None:
            return None
        shopper = Shopper(
            lang=self.replies.speaks(speaking),
            tag=context.get("visitor_language"),
            timezone=context.get("visitor_timezone") or context["store"]["timezone"],
            email=context.get("visitor_email"),
        )
        return Note(off_hours_note(self.replies, shopper, opens_at, self.svc.clock.now()), opens_at)

    def with_note(self, reason: str, said: str, note: Note) -> str:
        return note.text if reason in _PLAIN_HANDOFFS else f"{said}\n\n{note.text}"

    async def take_email(
        self, turn: dict[str, Any], context: dict[str, Any], speaking: str
    ) -> Reply | None:
        """While the conversation waits outside hours: an address in the shopper's
        message is stored and confirmed (or, malformed, asked again). None if the message
        has none, or the conversation is not waiting."""
        if context.get("status") != Status.QUEUED.value:
            return None
        found = find_email(str(turn["text"]))
        if found is None:
            return None
        lang = self.replies.speaks(speaking)
        facts = {"intent": EMAIL_INTENT, "confidence": 1.0, "language": lang, "understood": True}
        store_id, conversation_id = int(turn["store_id"]), int(turn["conversation_id"])
        email = clean_email(found)
        if email is None:
            text = self.replies.say(lang, "email_invalid", email=found)
            await do_send_bot_message(
                self.svc,
                store_id=store_id,
                conversation_id=conversation_id,
                reply_to=int(turn["event_id"]),
                text=text,
                details={**facts, "understood": False},
            )
            return Reply(text, EMAIL_INTENT, False)
        text = self.replies.say(lang, "email_saved", email=email)
        await do_save_visitor_email(
            self.svc,
            store_id=store_id,
            conversation_id=conversation_id,
            reply_to=int(turn["event_id"]),
            email=email,
            text=text,
            details=facts,
        )
        return Reply(text, EMAIL_INTENT, True)

    async def after_button(self, handoff: dict[str, Any], language: str | None) -> None:
        """The shopper pressed "talk to a person" outside hours: tell them when one is
        back, once (keyed by the handoff's event), unless a person has it already."""
        store_id, conversation_id = int(handoff["store_id"]), int(handoff["conversation_id"])
        history = await get_handoff_history(
            self.svc, store_id=store_id, conversation_id=conversation_id
        )
        if history is None or history["status"] != Status.QUEUED.value:
            return
        context = {
            "team_id": history["team_id"],
            "visitor_language": history["language"],
            "visitor_timezone": history["timezone"],
            "visitor_email": history["email"],
            "store": {"timezone": history["store_timezone"]},
        }
        speaking = language or history["store_language"]
        note = await self.note(store_id, context, speaking)
        if note is None:
            return
        await do_send_bot_message(
            self.svc,
            store_id=store_id,
            conversation_id=conversation_id,
            reply_to=int(handoff["event_id"]),
            text=note.text,
            details={
                "intent": "human_agent",
                "language": self.replies.speaks(speaking),
                "understood": True,
                **note.details,
            },
        )
