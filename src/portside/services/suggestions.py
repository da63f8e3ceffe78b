"""What an agent's suggested replies are made from: the shopper's last message, what is
known of its intent and language, and the store's knowledge (agent/suggestions.py
chooses from it, reading the message with the AI agent's models when nothing is known).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import ActorType, Event, EventType
from portside.errors import NotFound
from portside.services.canned_render import base_language, shopper_language
from portside.services.context import Services
from portside.storage import conversation_store as store
from portside.storage import intent_store, knowledge_store, store_store

# How far back the shopper's last message is looked for.
RECENT_EVENTS = 50


@dataclass(frozen=True)
class SuggestionContext:
    # The shopper's last message (None: they have said nothing lately).
    message: Event | None
    # An agent's label for it, and what the bot understood of it when it answered.
    label: str | None
    understood: dict[str, Any] | None
    # The language to answer in as far as known before reading the message.
    language: str
    store_language: str
    knowledge: list[dict[str, Any]]
    # The store's own intent model (0: the default one).
    model_version: int


async def get_suggestion_context(
    svc: Services, store_id: int, conversation_id: int
) -> SuggestionContext:
    def query(conn: Connection) -> SuggestionContext:
        row = store.find_conversation(conn, store_id, conversation_id)
        shop = store_store.find_store(conn, store_id)
        if row is None or shop is None:
            raise NotFound("This conversation does not exist.")
        recent = store.list_events(
            conn,
            row.id,
            visitor_id=row.visitor_id,
            after_seq=max(0, int(row.last_seq) - RECENT_EVENTS),
            limit=RECENT_EVENTS,
        )
        message = next(
            (
                event
                for event in reversed(recent)
                if event.type is EventType.MESSAGE_CREATED and event.actor.type is ActorType.VISITOR
            ),
            None,
        )
        label = understood = None
        if message is not None:
            labels = intent_store.list_examples(conn, store_id, conversation_id=row.id)
            label = next((r.intent for r in labels if r.event_id == message.id), None)
            reply = store.find_event_by_client_id(conn, row.id, f"bot:{message.id}")
            details = reply.data.get("bot") if reply is not None else None
            understood = details if isinstance(details, dict) else None
        return SuggestionContext(
            message=message,
            label=label,
            understood=understood,
            language=shopper_language(conn, row, shop.default_language),
            store_language=base_language(shop.default_language),
            knowledge=knowledge_store.list_entries(conn, store_id),
            model_version=intent_store.find_model_version(conn, store_id),
        )

    return await svc.db.read(query)
