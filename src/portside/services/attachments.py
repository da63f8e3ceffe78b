"""Attachments: uploads checked and stored, taken by a message, read and annotated by
the AI agent (docs/attachments.md).

An upload is stored on its own first (POST /api/v1/uploads), unsent: a row without a
conversation, its bytes in the FileStore. A message then names it, in the same
transaction as the message's event (`claim_attachments`); what is never sent is swept
after a day (services/attachment_files.py).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Actor, ActorType, Event, EventType, Standing, Status
from portside.domain.media import MAX_PER_MESSAGE, AttachmentLimits, check_upload
from portside.errors import Conflict, InvalidRequest, NotFound, RateLimited, ServiceUnavailable
from portside.services._log import append_event
from portside.services.attachments_settings import read_attachments
from portside.services.context import Services
from portside.services.identity import get_token_visitor
from portside.services.tracking_beacon import OriginNotAllowed, UnknownStore
from portside.storage import attachment_store, conversation_store, store_store

MAX_NAME = 255


@dataclass(frozen=True)
class Sender:
    """Who uploads or sends: a shopper (visitor_id) or an agent (agent_id)."""

    visitor_id: int | None = None
    agent_id: int | None = None

    @property
    def key(self) -> str:
        return f"visitor:{self.visitor_id}" if self.visitor_id else f"agent:{self.agent_id}"


async def get_limits(svc: Services, store_id: int) -> AttachmentLimits:
    raw = await svc.db.read(
        lambda conn: store_store.find_settings_section(conn, store_id, "attachments")
    )
    return read_attachments({"attachments": raw} if raw is not None else None)


async def check_upload_rate(svc: Services, sender: Sender, address: str) -> None:
    for limiter, key in (
        (svc.limiters.uploads, sender.key),
        (svc.limiters.uploads_by_address, f"ip:{address}"),
    ):
        retry = await limiter.hit(key)
        if retry:
            raise RateLimited(f"Too many uploads; wait {retry:.0f} s.", retry_after=retry)


async def do_upload(
    svc: Services,
    *,
    store_id: int,
    sender: Sender,
    data: bytes,
    filename: str | None,
    limits: AttachmentLimits,
) -> dict[str, Any]:
    """Check, process and store one upload; the attachment as the contract shows it.
    Its type comes from its bytes alone (domain/media.py)."""
    if svc.files is None or svc.media is None:
        raise ServiceUnavailable("This server takes no attachments.")
    sniffed = check_upload(data, limits)
    processed = await svc.media.process(data, sniffed, limits)
    now = svc.clock.now()
    key = f"s{store_id}/{now:%Y%m}/{secrets.token_hex(16)}"
    thumbnail_key = f"{key}.thumb" if processed.thumbnail is not None else None
    await svc.files.put(key, processed.data, processed.content_type)
    try:
        if thumbnail_key is not None and processed.thumbnail is not None:
            await svc.files.put(
                thumbnail_key, processed.thumbnail, processed.thumbnail_type or "image/jpeg"
            )
        values = {
            "store_id": store_id,
            "visitor_id": sender.visitor_id,
            "agent_id": sender.agent_id,
            "kind": processed.kind,
            "content_type": processed.content_type,
            "size_bytes": len(processed.data),
            "sha256": hashlib.sha256(processed.data).hexdigest(),
            "storage_key": key,
            "thumbnail_key": thumbnail_key,
            "width": processed.width,
            "height": processed.height,
            "duration_ms": processed.duration_ms,
            "original_name": _name(filename),
            "created_at": now,
        }
        attachment_id = await svc.db.write(
            lambda conn: attachment_store.insert_attachment(conn, **values)
        )
    except BaseException:
        # Nothing half-written: no row, no files.
        await _delete_files(svc, [key, thumbnail_key])
        raise
    return attachment_to_dict({"id": attachment_id, **values})


def attachment_to_dict(row: Any) -> dict[str, Any]:
    """An attachment as events and the API show it (never a URL: those expire)."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {
        "id": int(get("id") or 0),
        "kind": get("kind"),
        "content_type": get("content_type"),
        "size": int(get("size_bytes") or 0),
        "name": get("original_name"),
        "width": get("width"),
        "height": get("height"),
        "duration_ms": get("duration_ms"),
        "thumbnail": get("thumbnail_key") is not None,
    }


def check_attachment_ids(value: object) -> list[int]:
    """A send's `attachments`: 1-5 distinct upload ids (or none at all)."""
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_PER_MESSAGE
        or not all(isinstance(item, int) and not isinstance(item, bool) for item in value)
        or len(set(value)) != len(value)
    ):
        raise InvalidRequest(
            f"attachments is a list of 1 to {MAX_PER_MESSAGE} distinct upload ids."
        )
    return list(value)


def list_claimable(
    conn: Connection, store_id: int, ids: list[int], sender: Sender
) -> list[dict[str, Any]]:
    """The uploads a message will carry, as its event shows them: each must be the
    sender's own and not sent yet. Inside the send's transaction."""
    if not ids:
        return []
    rows = attachment_store.list_unsent(
        conn, store_id, ids, visitor_id=sender.visitor_id, agent_id=sender.agent_id
    )
    if len(rows) != len(ids):
        raise NotFound(
            "An attachment of this message is not one of your unsent uploads; upload it again."
        )
    by_id = {int(row.id): attachment_to_dict(row) for row in rows}
    return [by_id[i] for i in ids]


def claim_attachments(conn: Connection, event: Event, ids: list[int]) -> None:
    """Give the uploads to the message's event, in its transaction."""
    if not ids:
        return
    taken = attachment_store.attach_to_event(
        conn,
        event.store_id,
        ids,
        conversation_id=event.conversation_id,
        event_id=event.id,
    )
    if taken != len(ids):
        raise Conflict("An attachment of this message was sent at the same moment; send again.")


async def read_attachment(svc: Services, store_id: int, attachment_id: int) -> tuple[Any, bytes]:
    """The attachment's row and its stored bytes (a voice note as AAC in MP4, a photo
    re-encoded), for the AI agent's speech-to-text and vision providers."""
    row = await svc.db.read(
        lambda conn: attachment_store.find_attachment(conn, store_id, attachment_id)
    )
    if row is None or attachment_store.is_erased(row) or svc.files is None:
        raise NotFound("This attachment does not exist.")
    try:
        return row, await svc.files.get(row.storage_key)
    except FileNotFoundError:
        raise NotFound("This attachment's file is gone.") from None


async def do_record_transcript(
    svc: Services, store_id: int, attachment_id: int, transcript: dict[str, Any]
) -> Event | None:
    """Keep a voice note's transcript {text, language, provider, shown_to_shopper} and
    tell the agents (`attachment.transcribed`); with `shown_to_shopper` (the store's
    `speech.show_transcript_to_shopper`), the shopper too (`attachment.transcript_shared`,
    the text alone). The agents' event; None when the attachment was never sent."""
    return await _record(
        svc, store_id, attachment_id, "transcript", transcript, EventType.ATTACHMENT_TRANSCRIBED
    )


async def do_record_description(
    svc: Services, store_id: int, attachment_id: int, description: dict[str, Any]
) -> Event | None:
    """Keep what a vision provider saw {text, labels, provider} and tell the agents
    (`attachment.described`)."""
    return await _record(
        svc, store_id, attachment_id, "description", description, EventType.ATTACHMENT_DESCRIBED
    )


async def _record(
    svc: Services,
    store_id: int,
    attachment_id: int,
    column: str,
    value: dict[str, Any],
    kind: EventType,
) -> Event | None:
    def record(conn: Connection) -> tuple[list[Event], Standing | None]:
        row = attachment_store.find_attachment(conn, store_id, attachment_id)
        if row is None or attachment_store.is_erased(row):
            # Erased while the provider worked (its conversation was deleted): nothing
            # of what it said is kept.
            raise NotFound("This attachment does not exist.")
        attachment_store.update_attachment(conn, store_id, attachment_id, **{column: value})
        if row.conversation_id is None:
            return [], None
        conversation = conversation_store.find_conversation(conn, store_id, row.conversation_id)
        if conversation is None:
            return [], None
        extra = (
            {"labels": list(value.get("labels") or [])}
            if column == "description"
            else {"language": value.get("language")}
        )
        data = {
            "attachment_id": attachment_id,
            "event_id": row.event_id,
            "text": value.get("text"),
            **extra,
            "provider": value.get("provider"),
        }
        actor = Actor(ActorType.SYSTEM)
        written = [append_event(svc, conn, conversation, actor, kind, data)]
        if column == "transcript" and value.get("shown_to_shopper") and value.get("text"):
            # The store shows transcripts to shoppers: the words alone, in an event of
            # their own (the agents' one says more: language, provider).
            words = {"attachment_id": attachment_id, "event_id": row.event_id, "text": data["text"]}
            shared = EventType.ATTACHMENT_TRANSCRIPT_SHARED
            written.append(append_event(svc, conn, conversation, actor, shared, words))
        return written, Standing(Status(conversation.status), conversation.assignee_id)

    written, standing = await svc.db.write(record)
    if written and standing is not None:
        await svc.publish_events(written, standing)
    return written[0] if written else None


async def _delete_files(svc: Services, keys: Sequence[str | None]) -> None:
    if svc.files is None:
        return
    for key in keys:
        if key:
            await svc.files.delete(key)


def _name(filename: str | None) -> str | None:
    if not filename:
        return None
    cleaned = "".join(c for c in filename.strip() if c.isprintable() and c not in "/\\")
    return cleaned[:MAX_NAME] or None


async def check_widget_sender(
    svc: Services, *, store_key: str | None, origin: str | None, token: str
) -> tuple[int, Sender]:
    """The store and shopper of a widget's HTTP request: the store's widget key, an
    Origin the store allows (as for the widget's socket) and the visitor's token."""
    store = None
    if store_key:
        store = await svc.db.read(lambda conn: store_store.find_store_by_key(conn, store_key))
    if store is None:
        raise UnknownStore("No store has this widget key (the `store` parameter).")
    if origin not in store.allowed_origins:
        raise OriginNotAllowed(f"The store does not allow uploads from {origin}.")
    visitor_id = await get_token_visitor(svc, token, int(store.id))
    return int(store.id), Sender(visitor_id=visitor_id)
