"""Voice notes and photos, as the AI agent hears and sees them.

A voice note is transcribed by the store's speech provider (its `speech` settings), the
transcript recorded under the note (for the agents, and for the shopper if the store
wants), and the words go through the same understanding as a typed message, in the
language the provider heard. Without a provider, or when it fails, the bot hands the
conversation to a person with a note that the voice note was not transcribed.

A photo is described for the agents by the store's vision provider when it has one
(its `vision` settings), whose label says what the photo shows; without one, the bot
goes by the caption and where the conversation stands. A photo inside a return flow is
that return's evidence: the case the flow opens lists it (`data["photos"]`), and a
photo sent once the case is open is added to it. A damaged or wrong item (by its label,
or a caption like "it arrived like this") starts the return flow, and its label is the
return's reason unless the shopper gives one in words. A screenshot of a failed payment
is about the payment, never a return's evidence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portside.agent.flows import RETURN
from portside.agent.intents import Prediction
from portside.agent.replies import Replies
from portside.domain.conversations import ActorType, Event, EventType
from portside.domain.ports import ImageReading, MediaModels, ReadingFailed, Transcript
from portside.errors import PortsideError
from portside.services.attachments import (
    do_record_description,
    do_record_transcript,
    read_attachment,
)
from portside.services.bot import do_send_bot_message, get_handoff_history
from portside.services.cases import do_add_case_photos
from portside.services.context import Services
from portside.services.media_settings import find_store_settings, read_speech, read_vision

log = logging.getLogger(__name__)

# The intent of the bot's reply to a photo it only acknowledged (no question in it).
PHOTO = "photo"
# The handoff reason when a voice note could not be transcribed.
VOICE_NOT_TRANSCRIBED = "voice_not_transcribed"
# What a vision label makes of a photo sent with no clear question.
LABEL_INTENTS = {
    "damaged_item": RETURN,
    "wrong_item": RETURN,
    "payment_error": "payment_problem",
    "size_label": "size_fit",
}
# The return reason a label shows (agent/returns.py).
LABEL_REASONS = {"damaged_item": "damaged", "wrong_item": "wrong_item"}
PAYMENT_ERROR = "payment_error"
# A photo with a caption read as one of these is about the item as it arrived.
DAMAGE_INTENTS = frozenset({RETURN, "delivery_problem", "complaint", "refund_request"})
# Below this, the caption's own intent gives way to the photo's label.
CAPTION_SURE = 0.55


@dataclass(frozen=True)
class Heard:
    """What a shopper's turn with attachments says."""

    text: str  # the caption and the voice note's transcript
    language: str | None = None  # the language the speech provider heard
    voice: int | None = None  # the voice note's attachment id
    not_transcribed: str | None = None  # why the voice note has no transcript
    photos: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()


class MediaReader:
    def __init__(self, svc: Services, models: MediaModels | None) -> None:
        self.svc = svc
        self._models = models

    async def hear(
        self,
        store_id: int,
        settings: Mapping[str, Any],
        turn: Mapping[str, Any],
        *,
        spoken: str | None,
        agents_language: str,
    ) -> Heard:
        """Transcribe the turn's voice note (in `spoken`, the conversation's language,
        as a hint) and describe its photos (in `agents_language`, for the agents)."""
        caption = str(turn.get("text") or "").strip()
        texts = [caption] if caption else []
        language, voice, failed = None, None, None
        photos: list[int] = []
        labels: list[str] = []
        for item in attachments_of(turn):
            kind, attachment_id = item["kind"], int(item["id"])
            if kind == "voice" and voice is None:
                voice = attachment_id
                try:
                    transcript = await self._transcribe(store_id, settings, attachment_id, spoken)
                except (ReadingFailed, TimeoutError, PortsideError) as exc:
                    failed = _why(exc)
                    log.info("store %s: voice note %s not transcribed: %s", store_id, voice, failed)
                else:
                    texts.append(transcript.text)
                    language = transcript.language
            elif kind == "image":
                photos.append(attachment_id)
                reading = await self._describe(
                    store_id, settings, attachment_id, caption, agents_language
                )
                labels.extend(reading.labels if reading is not None else ())
        return Heard(
            " ".join(texts), language, voice, failed, tuple(photos), tuple(dict.fromkeys(labels))
        )

    async def for_person(self, message: Mapping[str, Any]) -> None:
        """A shopper's attachments while a person has the conversation: transcribed and
        described for them, and photos added to the open return case."""
        store_id, conversation_id = int(message["store_id"]), int(message["conversation_id"])
        found = await find_store_settings(self.svc, store_id)
        if found is None:
            return
        settings, language = found
        heard = await self.hear(store_id, settings, message, spoken=None, agents_language=language)
        if heard.photos:
            await do_add_case_photos(self.svc, store_id, conversation_id, list(heard.photos))

    async def _transcribe(
        self, store_id: int, settings: Mapping[str, Any], attachment_id: int, hint: str | None
    ) -> Transcript:
        speech = read_speech(settings)
        if self._models is None or not speech.enabled:
            raise ReadingFailed("the store has no speech-to-text provider")
        if speech.provider == "faster_whisper":
            provider = self._models.local_speech()
        else:
            provider = self._models.speech_endpoint(speech.endpoint)
        row, audio = await read_attachment(self.svc, store_id, attachment_id)
        async with asyncio.timeout(speech.timeout_ms / 1000):
            transcript = await provider.transcribe(audio, str(row.content_type), hint)
        await do_record_transcript(
            self.svc,
            store_id,
            attachment_id,
            {
                "text": transcript.text,
                "language": transcript.language,
                "provider": transcript.provider,
                "shown_to_shopper": speech.show_transcript_to_shopper,
            },
        )
        return transcript

    async def _describe(
        self,
        store_id: int,
        settings: Mapping[str, Any],
        attachment_id: int,
        caption: str,
        language: str,
    ) -> ImageReading | None:
        vision = read_vision(settings)
        if self._models is None or not vision.enabled:
            return None
        try:
            row, image = await read_attachment(self.svc, store_id, attachment_id)
            async with asyncio.timeout(vision.timeout_ms / 1000):
                reading = await self._models.vision_endpoint(vision.endpoint).describe(
                    image, str(row.content_type), caption or None, language
                )
            await do_record_description(
                self.svc,
                store_id,
                attachment_id,
                {
                    "text": reading.text,
                    "labels": list(reading.labels),
                    "provider": reading.provider,
                },
            )
        except (ReadingFailed, TimeoutError, PortsideError) as exc:
            # The bot carries on with the caption and the conversation, as without one.
            log.info("store %s: photo %s not described: %s", store_id, attachment_id, _why(exc))
            return None
        return reading


def attachments_of(turn: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attachments of a turn (or an event's data), those that are well formed."""
    found = turn.get("attachments") or []
    return [
        item
        for item in found
        if isinstance(item, dict) and isinstance(item.get("id"), int) and item.get("kind")
    ]


def photo_intent(
    replies: Replies, lang: str, heard: Heard, caption: str, prediction: Prediction
) -> Prediction:
    """What a turn with photos asks for: the caption's intent when it is sure and about
    something else; the payment problem for a screenshot of a failed payment, whatever
    refund or damage the caption speaks of; a return when the photo shows a damaged or
    wrong item (its label, or a caption like "it arrived like this"); what its label
    says otherwise."""
    if not heard.photos:
        return prediction
    by_label = [LABEL_INTENTS[label] for label in heard.labels if label in LABEL_INTENTS]
    said = " ".join(caption.lower().split())
    words = replies.words(lang, "photo_damage_words") | replies.words("en", "photo_damage_words")
    damage = any(word in said for word in words)
    caption_sure = bool(said) and prediction.confidence >= CAPTION_SURE
    if shows_payment_error(heard) and not (
        caption_sure and prediction.intent not in DAMAGE_INTENTS
    ):
        chosen: str | None = LABEL_INTENTS[PAYMENT_ERROR]
    elif damage or (said and prediction.intent in DAMAGE_INTENTS and caption_sure):
        chosen = RETURN
    elif caption_sure:
        return prediction
    else:
        # A damaged or wrong item first: the rest can wait for the team.
        chosen = RETURN if reason_shown(heard) else (by_label[0] if by_label else None)
    if chosen is None:
        return prediction
    return Prediction(chosen, 1.0, prediction.intent, prediction.confidence)


def reason_shown(heard: Heard) -> str | None:
    """The return reason the photos' labels show (a damaged or wrong item), if any."""
    return next((LABEL_REASONS[label] for label in heard.labels if label in LABEL_REASONS), None)


def shows_payment_error(heard: Heard) -> bool:
    """A screenshot of a failed payment, and no photo of a damaged or wrong item."""
    return PAYMENT_ERROR in heard.labels and reason_shown(heard) is None


def answers_reason(flow: Mapping[str, Any] | None, reason: str | None) -> bool:
    """A photo whose label shows why, while the return flow asks why: its answer."""
    flow = flow or {}
    return bool(reason) and flow.get("name") == RETURN and flow.get("step") == "reason"


def case_photos(events: Sequence[Event]) -> list[int]:
    """The photos the shopper sent in the flow under way (the latest events, back to
    the bot's last reply outside a flow): a return case's evidence."""
    photos: list[int] = []
    for event in reversed(events):
        if event.type is not EventType.MESSAGE_CREATED:
            continue
        if event.actor.type is ActorType.VISITOR:
            photos[:0] = [int(a["id"]) for a in attachments_of(event.data) if a["kind"] == "image"]
        elif event.actor.type is ActorType.BOT:
            details = event.data.get("bot")
            if not isinstance(details, dict):
                break
            if not details.get("flow") and details.get("intent") != PHOTO:
                break
    return list(dict.fromkeys(photos))


def _why(exc: BaseException) -> str:
    if isinstance(exc, PortsideError):
        return exc.message
    return str(exc) or type(exc).__name__


async def do_acknowledge_photo(
    svc: Services,
    replies: Replies,
    turn: Mapping[str, Any],
    *,
    heard: Heard,
    flow: dict[str, Any] | None,
    lang: str | None,
    speaking: str,
) -> str:
    """The bot's answer to a photo sent with nothing to go by: inside a return flow, it
    is kept for the case (the flow goes on where it was); otherwise the bot asks what it
    is about. The text said."""
    key = "photo_added" if (flow or {}).get("name") == RETURN else "photo_ask"
    said = replies.say(replies.speaks(speaking), key)
    await do_send_bot_message(
        svc,
        store_id=int(turn["store_id"]),
        conversation_id=int(turn["conversation_id"]),
        reply_to=int(turn["event_id"]),
        text=said,
        details={
            "intent": PHOTO,
            "confidence": 1.0,
            "language": lang,
            "understood": True,
            "photos": list(heard.photos),
            **({"flow": flow} if flow else {}),
        },
    )
    return said


async def with_case_photos(
    svc: Services, store_id: int, conversation_id: int, case: dict[str, Any]
) -> dict[str, Any]:
    """The case a return flow opens, with the photos the shopper sent in the flow."""
    history = await get_handoff_history(svc, store_id=store_id, conversation_id=conversation_id)
    photos = case_photos(history["events"]) if history is not None else []
    return {**case, "data": {**case["data"], "photos": photos}}
