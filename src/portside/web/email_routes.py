"""Inbound email: a mail server posts each raw message for a store (docs/operating.md).

No session and no CSRF token: the store's inbound secret in the address is the
credential. It is checked before the body is read, and the body is read no further
than the size limit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from portside.errors import EmailTooLarge, UnsupportedMediaType
from portside.services.email_in import check_mailbox, do_receive_email
from portside.web.deps import ServicesDep, read_body

router = APIRouter(prefix="/api/v1/email", tags=["email"])

CONTENT_TYPES = ("message/rfc822", "text/plain")


@router.post("/inbound/{store_id}/{secret}", status_code=201)
async def receive_email(
    store_id: int, secret: str, request: Request, response: Response, svc: ServicesDep
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            "Post the raw email with Content-Type message/rfc822 (or text/plain), "
            f"not {content_type or 'no Content-Type'}."
        )
    mailbox = await check_mailbox(svc, store_id, secret)
    raw = await _read_body(request, svc.settings.limits.inbound_email_bytes)
    received = await do_receive_email(svc, mailbox, raw)
    if received.event is None:
        response.status_code = 200
        return {"stored": False, "ignored": received.ignored}
    if received.duplicate:
        response.status_code = 200
    return {
        "stored": True,
        "duplicate": received.duplicate,
        "conversation_id": received.event.conversation_id,
        "event": received.event.to_wire(),
    }


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = EmailTooLarge(
        f"This email is larger than {limit} bytes, the most this server takes "
        "(PORTSIDE_INBOUND_EMAIL_BYTES); nothing was stored."
    )
    return await read_body(request, limit, too_large)
