"""Who may fetch an attachment's bytes, and how: short-lived signed URLs.

A participant (the shopper whose conversation it is, or an agent of the store) asks
for URLs; the local store's are Portside's own `/files/{id}/{variant}/{expires}/{sig}`
signed with the server's secret (HMAC-SHA256), S3's are the bucket's presigned URLs.
Both expire after `file_url_s` (5 minutes by default), so an URL copied out of a
conversation stops working soon. Events never hold URLs.

Also here: the sweep of uploads never sent (rows and files), after a day.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from portside.domain.media import content_disposition
from portside.errors import NotFound, PortsideError
from portside.services.attachments import Sender
from portside.services.context import Services
from portside.storage import attachment_store, conversation_store

log = logging.getLogger(__name__)

VARIANTS = ("full", "thumb")
UNSENT_KEPT = timedelta(hours=24)
SWEEP_EVERY_S = 3600.0
SWEEP_BATCH = 200


class FileUrlInvalid(PortsideError):
    code = "file_url_invalid"
    status = 403


class FileUrlExpired(FileUrlInvalid):
    code = "file_url_expired"


@dataclass(frozen=True)
class ServedFile:
    data: bytes
    content_type: str
    disposition: str
    max_age_s: int


async def get_attachment_urls(
    svc: Services, store_id: int, attachment_id: int, viewer: Sender, base_url: str
) -> dict[str, Any]:
    """{"url", "thumbnail_url", "expires_at"} for a participant; NotFound for anyone
    else (another shopper, another store's agent): they learn nothing of it."""
    row = await svc.db.read(lambda conn: _find_for(conn, store_id, attachment_id, viewer))
    if row is None or svc.files is None:
        raise NotFound("This attachment does not exist.")
    expires_s = int(svc.settings.limits.file_url_s)
    expires = int(svc.clock.now().timestamp()) + expires_s
    filename = (row.original_name or "document.pdf") if row.kind == "file" else None
    urls: list[str | None] = []
    for variant, key in (("full", row.storage_key), ("thumb", row.thumbnail_key)):
        if key is None:
            urls.append(None)
            continue
        url = await svc.files.url(key, expires_s, filename if variant == "full" else None)
        if url is None:
            signature = sign(svc.settings.secret_key, int(row.id), variant, expires)
            url = f"{base_url.rstrip('/')}/files/{row.id}/{variant}/{expires}/{signature}"
        urls.append(url)
    return {
        "url": urls[0],
        "thumbnail_url": urls[1],
        "expires_at": datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z"),
    }


def _find_for(conn: Any, store_id: int, attachment_id: int, viewer: Sender) -> Any:
    row = attachment_store.find_attachment(conn, store_id, attachment_id)
    if row is None:
        return None
    if row.conversation_id is None:
        # Unsent: only its uploader sees it.
        mine = (viewer.visitor_id is not None and row.visitor_id == viewer.visitor_id) or (
            viewer.agent_id is not None and row.agent_id == viewer.agent_id
        )
        return row if mine else None
    if viewer.agent_id is not None:
        return row  # any agent of the store (the query is the store's)
    conversation = conversation_store.find_conversation(conn, store_id, row.conversation_id)
    if conversation is None or conversation.visitor_id != viewer.visitor_id:
        return None
    return row


def sign(secret: str, attachment_id: int, variant: str, expires: int) -> str:
    key = hashlib.sha256(b"portside.files.v1:" + secret.encode()).digest()
    digest = hmac.new(key, f"{attachment_id}:{variant}:{expires}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def read_signed_file(
    svc: Services, attachment_id: int, variant: str, expires: int, signature: str
) -> ServedFile:
    """The bytes a signed path names, if its signature is ours and still valid."""
    expected = sign(svc.settings.secret_key, attachment_id, variant, expires)
    if variant not in VARIANTS or not hmac.compare_digest(expected, signature):
        raise FileUrlInvalid("This file link is not valid.")
    left = expires - int(svc.clock.now().timestamp())
    if left < 0:
        raise FileUrlExpired("This file link has expired; ask for a new one.")
    row = await svc.db.read(lambda conn: attachment_store.find_any_attachment(conn, attachment_id))
    key = None if row is None else row.storage_key if variant == "full" else row.thumbnail_key
    if row is None or key is None or svc.files is None:
        raise NotFound("This file does not exist.")
    try:
        data = await svc.files.get(key)
    except FileNotFoundError:
        raise NotFound("This file does not exist.") from None
    download = row.kind == "file" and variant == "full"
    return ServedFile(
        data=data,
        content_type=row.content_type,
        disposition=content_disposition(
            (row.original_name or "document.pdf") if download else None, download=download
        ),
        max_age_s=left,
    )


async def do_sweep_unsent(svc: Services, *, batch: int = SWEEP_BATCH) -> int:
    """Delete uploads no message took within a day, rows then files; how many."""
    cutoff = svc.clock.now() - UNSENT_KEPT
    swept = 0
    while True:
        rows = await svc.db.read(
            lambda conn: attachment_store.list_unsent_before(conn, cutoff, batch)
        )
        if not rows:
            return swept
        ids = [int(row.id) for row in rows]
        gone = await svc.db.write(partial(attachment_store.delete_unsent, ids=ids))
        for row in rows:
            if int(row.id) in gone and svc.files is not None:
                for key in (row.storage_key, row.thumbnail_key):
                    if key:
                        await svc.files.delete(key)
        swept += len(gone)
        if len(rows) < batch:
            return swept


class UnsentSweeper:
    """The periodic sweep of unsent uploads, started and stopped with the app."""

    def __init__(self, svc: Services, every_s: float = SWEEP_EVERY_S) -> None:
        self.svc = svc
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                swept = await do_sweep_unsent(self.svc)
                if swept:
                    log.info("swept %d unsent uploads", swept)
            except Exception:
                log.exception("the sweep of unsent uploads failed; trying again later")
            await asyncio.sleep(self.every_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
