"""Shoppers' answers by email, back into their conversations.

A store's mail server (or any provider's inbound hook) posts each raw RFC 822 message
it receives for the reply domain to the store's inbound address. The conversation is
the one the signed reply address names (domain/mail.py), or the one of our email that
the message answers (In-Reply-To/References). The shopper's new words, without the
quoted mail and the signature, become their message through the same action as a
widget's, with a client_id made from the Message-ID: a mail delivered twice is stored
once. Nothing is stored for a mail that is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import Event
from portside.domain.mail import (
    RECIPIENT_HEADERS,
    client_id_for,
    find_reply_token,
    message_ids_in,
)
from portside.domain.mail_text import reply_text
from portside.errors import (
    EmailMalformed,
    Forbidden,
    MessageEmpty,
    NotFound,
    RateLimited,
    ReplyTokenInvalid,
)
from portside.services.context import Services
from portside.services.conversations import do_send_visitor_message
from portside.services.email_settings import EmailSettings, read_email
from portside.services.identity import mail_key
from portside.storage import conversation_store, email_store, store_store

# Mail that no person wrote: out-of-office answers (RFC 3834), bounces, lists.
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


@dataclass(frozen=True)
class Mailbox:
    """A store's inbound address, once its secret was checked."""

    store_id: int
    settings: EmailSettings


@dataclass(frozen=True)
class Received:
    """What became of an inbound mail: the message it was stored as (`duplicate` when a
    delivery before stored it), or why it was ignored ("auto_reply", "bounce", "loop")."""

    event: Event | None = None
    duplicate: bool = False
    ignored: str | None = None


async def check_mailbox(svc: Services, store_id: int, secret: str) -> Mailbox:
    """The store's mailbox if `secret` is its inbound secret; counts against its limit."""
    store = await svc.db.read(lambda conn: store_store.find_store(conn, store_id))
    settings = read_email(store.settings if store is not None else None)
    expected = settings.inbound_secret
    if not (
        store is not None
        and settings.enabled
        and expected is not None
        and hmac.compare_digest(secret.encode(), expected.encode())
    ):
        raise Forbidden(
            "This is not a store's inbound email address: check the store id and the "
            "inbound_secret of its email settings (which must be enabled)."
        )
    retry = await svc.limiters.inbound_emails.hit(f"store:{store_id}")
    if retry:
        raise RateLimited(
            f"Too many emails for this store; wait {retry:.0f} s and post again.",
            retry_after=retry,
        )
    return Mailbox(store_id, settings)


async def do_receive_email(svc: Services, mailbox: Mailbox, raw: bytes) -> Received:
    """Append the shopper's answer in `raw` to its conversation; raises EmailMalformed,
    ReplyTokenInvalid, NotFound or MessageEmpty, with nothing stored."""
    # A big mail takes a while to parse: not on the event loop.
    message = await asyncio.to_thread(_parse, raw)
    headers = _headers(message)
    ignored = _why_ignored(message, headers, mailbox.settings)
    if ignored is not None:
        return Received(ignored=ignored)
    # Without a Message-ID, the same bytes delivered twice are still one mail.
    message_id = next(
        iter(message_ids_in(headers["message-id"])),
        f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>",
    )
    store_id = mailbox.store_id
    found = await svc.db.read(lambda conn: email_store.find_email(conn, store_id, message_id))
    if found is not None and found.direction == "out":
        return Received(ignored="loop")  # one of our own emails came back
    row = await _find_conversation(svc, store_id, headers)
    text = await asyncio.to_thread(reply_text, message)
    if not text:
        raise MessageEmpty(
            "This email has no text of its own once the quoted earlier mail and the "
            "signature are left out; nothing was stored."
        )
    limit = svc.settings.limits.max_message_chars
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    result = await do_send_visitor_message(
        svc,
        store_id=store_id,
        visitor_id=row.visitor_id,
        client_id=client_id_for(message_id),
        text=text,
        conversation_id=row.id,
        via="email",
    )
    await _record(svc, store_id, row.id, message_id, result.event.id)
    return Received(result.event, result.duplicate)


def _parse(raw: bytes) -> EmailMessage:
    if not raw.strip():
        raise EmailMalformed("The body is empty: post the raw email (RFC 822) as it arrived.")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything it raises means garbage
        raise EmailMalformed(f"This is not an email that can be read: {exc}.") from None
    assert isinstance(message, EmailMessage)
    return message


def _headers(message: Message) -> dict[str, list[str]]:
    """The headers we read, as text; a header that cannot be read makes the mail malformed."""
    names = (
        *RECIPIENT_HEADERS,
        *("from", "message-id", "in-reply-to", "references"),
        *("auto-submitted", "precedence", "x-autoreply", "x-autorespond"),
    )
    try:
        headers = {name: [str(v) for v in message.get_all(name, [])] for name in names}
    except Exception as exc:
        raise EmailMalformed(f"A header of this email cannot be read: {exc}.") from None
    if not headers["from"] or not any(headers[name] for name in RECIPIENT_HEADERS):
        raise EmailMalformed(
            "This is not an RFC 822 email: it needs From and To (or Delivered-To) headers. "
            "Post the raw message as the mail server received it."
        )
    return headers


def _why_ignored(
    message: Message, headers: dict[str, list[str]], settings: EmailSettings
) -> str | None:
    auto = [v.strip().lower() for v in headers["auto-submitted"]]
    precedence = {v.strip().lower() for v in headers["precedence"]}
    if any(v != "no" for v in auto) or headers["x-autoreply"] or headers["x-autorespond"]:
        return "auto_reply"
    if precedence & _AUTO_PRECEDENCE:
        return "auto_reply"
    if message.get_content_type() == "multipart/report":
        return "bounce"
    sender = " ".join(headers["from"]).lower()
    if settings.from_address and settings.from_address.lower() in sender:
        return "loop"  # mail from the store's own sending address
    return None


async def _find_conversation(svc: Services, store_id: int, headers: dict[str, list[str]]) -> Any:
    recipients = [v for name in RECIPIENT_HEADERS for v in headers[name]]
    search = find_reply_token(mail_key(svc.settings), store_id, recipients)
    if search.conversation_id is None and search.refused:
        raise ReplyTokenInvalid(
            "The reply address of this email was not made by this store's Portside (a "
            "forged or damaged reply+ address); nothing was stored."
        )
    referenced = message_ids_in([*headers["in-reply-to"], *headers["references"]])

    def find(conn: Connection) -> Any:
        conversation_id = search.conversation_id
        if conversation_id is None:
            conversation_id = email_store.find_conversation_by_message_ids(
                conn, store_id, referenced
            )
        if conversation_id is None:
            return None
        return conversation_store.find_conversation(conn, store_id, conversation_id)

    row = await svc.db.read(find)
    if row is None:
        raise NotFound(
            "This email answers no conversation of this store: it has no reply address "
            "of ours, and names none of our emails in In-Reply-To or References."
        )
    return row


async def _record(
    svc: Services, store_id: int, conversation_id: int, message_id: str, event_id: int
) -> None:
    """Note the mail, so that the next reply threads under it; once per Message-ID."""
    now = svc.clock.now()

    def record(conn: Connection) -> None:
        if email_store.find_email(conn, store_id, message_id) is None:
            email_store.insert_email(
                conn,
                store_id=store_id,
                conversation_id=conversation_id,
                direction="in",
                message_id=message_id,
                event_id=event_id,
                status="received",
                now=now,
            )

    # IntegrityError: the same mail, delivered twice at once; the other delivery noted it.
    with contextlib.suppress(IntegrityError):
        await svc.db.write(record)
