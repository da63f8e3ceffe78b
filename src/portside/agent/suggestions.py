"""Suggested replies for an agent: the store's knowledge for what the shopper last asked.

The shopper's last message is read as the bot reads it: its intent is the one an agent
labelled it with, else the one the bot understood when it answered, else (the bot had
handed over and no longer answers) what the AI agent's models make of it now. The
store's entries for that intent are offered in the shopper's language, falling back as
the bot's own knowledge answers do (the store's language, English, any), each marked
with the language it is in. The agent sends one as it is, or edits it first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from portside.agent.catalogue import OUT_OF_SCOPE
from portside.agent.intents import Prediction
from portside.agent.language import conversation_language
from portside.services.canned_render import base_language
from portside.services.context import Services
from portside.services.suggestions import get_suggestion_context

MAX_SUGGESTIONS = 3


class MessageReader(Protocol):
    """Reads a message as the bot would (BotParticipant.understand)."""

    async def understand(
        self, store_id: int, text: str, language: str | None, model_version: int
    ) -> tuple[str | None, Prediction]: ...


async def suggest_replies(
    svc: Services, reader: MessageReader | None, *, store_id: int, conversation_id: int
) -> dict[str, Any]:
    """{message, intent, confidence, source, language, suggestions} for the console;
    without a reader (the AI agent is off) only labels and the bot's answers count."""
    context = await get_suggestion_context(svc, store_id, conversation_id)
    message = context.message
    language = context.language
    intent: str | None = None
    confidence: float | None = None
    source: str | None = None
    if message is not None:
        text = str(message.data.get("text", ""))
        understood = context.understood or {}
        said = understood.get("language")
        if isinstance(said, str) and said:
            language = base_language(said)
        if context.label is not None:
            intent, source = context.label, "label"
        elif context.understood is not None:
            if understood.get("understood", True) and isinstance(understood.get("intent"), str):
                intent, source = str(understood["intent"]), "bot"
                confidence = _number(understood.get("confidence"))
        elif reader is not None:
            detected, prediction = await reader.understand(
                store_id, text, language, context.model_version
            )
            language = conversation_language(language, detected, text) or language
            if prediction.intent != OUT_OF_SCOPE:
                intent, source = prediction.intent, "model"
                confidence = round(prediction.confidence, 3)
    return {
        "message": None
        if message is None
        else {"event_id": message.id, "seq": message.seq, "text": message.data.get("text")},
        "intent": intent,
        "confidence": confidence,
        "source": source,
        "language": language,
        "suggestions": choose_entries(
            context.knowledge, [intent] if intent else [], language, context.store_language
        ),
    }


def choose_entries(
    entries: Sequence[dict[str, Any]],
    intents: Iterable[str],
    language: str,
    store_language: str,
    limit: int = MAX_SUGGESTIONS,
) -> list[dict[str, Any]]:
    """The entries answering `intents` (in that order), each in the shopper's language,
    else the store's, else English, else any it has."""
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for intent in intents:
        for entry in entries:
            if intent not in entry["intents"] or entry["id"] in seen:
                continue
            texts, titles = entry["text"], entry["title"]
            written = next(
                (lang for lang in (language, store_language, "en", *texts) if texts.get(lang)),
                None,
            )
            if written is None:
                continue
            seen.add(entry["id"])
            chosen.append(
                {
                    "id": entry["id"],
                    "intent": intent,
                    "language": written,
                    "in_shopper_language": written == language,
                    "title": titles.get(written) or next(iter(titles.values()), entry["id"]),
                    "text": texts[written],
                }
            )
            if len(chosen) >= limit:
                return chosen
    return chosen


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
