"""Who may fetch an attachment's bytes, and how: short-lived signed URLs.

A participant (the shopper whose conversation it is, or an agent of the store) asks
for URLs; the local store's are Portside's own `/files/{id}/{variant}/{expires}/{sig}`
signed with the server's secret (HMAC-SHA256), S3's are the bucket's presigned URLs.
Both expire after `file_url_s` (5 minutes by default), so an URL copied out of a
conversation stops working soon. Events never hold URLs.

Also here: deleting files. Whatever is deleted (an upload never sent, after a day; the
attachments of an erased conversation or shopper, services/erasure.py) is first
*erased*: its row is taken out of its conversation and owner, in the transaction that
decides it. Then its files are deleted, and only then its row; a file that cannot be
deleted keeps its row until the hourly sweep manages. No file is left behind unnamed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from portside.domain.media import content_disposition
from portside.errors import NotFound, PortsideError
from portside.services.attachments import Sender
from portside.services.context import Services
from portside.services.leases import LeasedJob
from portside.storage import attachment_store, conversation_store

log = logging.getLogger(__name__)

VARIANTS = ("full", "thumb")
UNSENT_KEPT = timedelta(hours=24)
SWEEP_EVERY_S = 3600.0
SWEEP_BATCH = 200
SWEEP_LEASE = "unsent-uploads"


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
    if row is not None and attachment_store.is_erased(row):
        row = None  # erased: a link given out before is worth nothing now
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
    """Erase the uploads no message took within a day, then delete the files of every
    erased attachment (these, and any an erasure could not delete before); how many
    uploads were swept."""
    cutoff = svc.clock.now() - UNSENT_KEPT
    swept = 0
    while True:
        erased = await svc.db.write(
            partial(attachment_store.erase_unsent_before, cutoff=cutoff, limit=batch)
        )
        swept += len(erased)
        if len(erased) < batch:
            break
    await do_sweep_erased(svc, batch=batch)
    return swept


async def do_sweep_erased(svc: Services, *, batch: int = SWEEP_BATCH) -> int:
    """Delete the files of erased attachments, then their rows; how many are gone.
    One whose files cannot be deleted now keeps its row, and is tried again next time."""
    gone, after = 0, 0
    while True:
        rows = await svc.db.read(partial(attachment_store.list_erased, after_id=after, limit=batch))
        if not rows:
            return gone
        gone += await delete_erased_files(svc, rows)
        after = int(rows[-1].id)
        if len(rows) < batch:
            return gone


async def delete_erased_files(svc: Services, rows: Sequence[Any]) -> int:
    """Files first, then rows: an erased attachment's row is deleted only once its
    files are, so a file is never left without a row naming it. A file store that
    fails is logged; the row stays for the next sweep (hourly). How many are gone."""
    if svc.files is None:
        return 0  # a process without the file store (a tool) leaves them to the server
    done: list[int] = []
    for row in rows:
        try:
            for key in (row.storage_key, row.thumbnail_key):
                if key:
                    await svc.files.delete(key)
        except Exception:
            log.warning(
                "the files of erased attachment %s could not be deleted; trying again later",
                row.id,
                exc_info=True,
            )
            continue
        done.append(int(row.id))
    if not done:
        return 0
    return len(await svc.db.write(partial(attachment_store.delete_erased, ids=done)))


class UnsentSweeper:
    """The periodic sweep of unsent uploads, started and stopped with the app; with
    several nodes, the holder of its lease sweeps (services/leases.py)."""

    def __init__(self, svc: Services, every_s: float = SWEEP_EVERY_S) -> None:
        self.svc = svc
        self.job = LeasedJob(svc, SWEEP_LEASE, self._sweep, every_s=every_s)

    def start(self) -> None:
        self.job.start()

    async def close(self) -> None:
        await self.job.close()

    async def _sweep(self) -> None:
        swept = await do_sweep_unsent(self.svc)
        if swept:
            log.info("swept %d unsent uploads", swept)
