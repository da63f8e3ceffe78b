"""Email as a way to continue a conversation: the rules, without any I/O.

An agent's reply to a shopper who has left goes out as an email whose Reply-To carries a
signed token naming the conversation (`reply+<token>@<reply domain>`), and whose
Message-ID is derived from the reply's event id and signed too. The shopper's answer
comes back to the inbound endpoint; the token in its recipients, or one of our
Message-IDs in its In-Reply-To/References, says which conversation it belongs to.

Both are HMACs (not itsdangerous' base64 signatures) because mail servers may change the
case of an address's local part: a token of digits and lowercase hex survives that, and
fits in the 64 characters a local part may have.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

# The address shoppers reply to is REPLY_LOCAL + "+" + token.
REPLY_LOCAL = "reply"
# 24 hex digits: 96 bits of HMAC-SHA256.
MAC_HEX = 24
# Headers that may carry the reply address: To and Cc as the shopper's client wrote them,
# the others as a mail server that forwards to the inbound endpoint adds them.
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
# At most this many earlier Message-IDs in References.
MAX_REFERENCES = 20
# Opens every email we send: the shopper's client quotes it under their answer, so the
# inbound side cuts the answer there (domain/mail_text.py).
REPLY_ABOVE = "## Please type your reply above this line ##"

_TOKEN = re.compile(
    rf"{REPLY_LOCAL}\+([0-9]{{1,19}})-([0-9]{{1,19}})-([0-9a-f]{{{MAC_HEX}}})@", re.IGNORECASE
)
_ANY_TOKEN = re.compile(rf"{REPLY_LOCAL}\+[^@\s<>]*@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


class MailSendError(Exception):
    """A mail server did not take a message. `temporary` ones are worth trying again."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class SmtpServer:
    """Where a store's email goes out: its `email` settings (services/email_settings.py)."""

    host: str
    port: int
    # "none", "starttls" (upgrade a plain connection) or "tls" (TLS from the start).
    security: str
    username: str = ""
    password: str | None = None
    timeout_s: float = 30.0


class MailTransport(Protocol):
    """Hands a message to a mail server; raises MailSendError when it is not taken."""

    async def send(self, server: SmtpServer, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class OutgoingReply:
    """An agent's reply as an email, with what it needs to thread in the shopper's mailbox."""

    store_name: str
    from_address: str
    from_name: str
    to_address: str
    to_name: str | None
    reply_to: str
    message_id: str
    # Earlier Message-IDs of the conversation, oldest first.
    earlier: Sequence[str]
    agent_name: str
    text: str
    sent_at: datetime


def reply_token(key: bytes, store_id: int, conversation_id: int) -> str:
    return f"{store_id}-{conversation_id}-{_mac(key, f'reply:{store_id}:{conversation_id}')}"


def reply_address(key: bytes, store_id: int, conversation_id: int, domain: str) -> str:
    return f"{REPLY_LOCAL}+{reply_token(key, store_id, conversation_id)}@{domain}"


@dataclass(frozen=True)
class TokenSearch:
    """What the recipients of a mail say: the conversation a valid token names, and
    whether some reply address was there that did not verify (forged or mangled)."""

    conversation_id: int | None
    refused: bool


def find_reply_token(key: bytes, store_id: int, recipients: Iterable[str]) -> TokenSearch:
    """The conversation named by a reply address among `recipients` (header values)."""
    refused = False
    for value in recipients:
        for match in _TOKEN.finditer(value):
            token_store, conversation, mac = int(match[1]), int(match[2]), match[3].lower()
            expected = _mac(key, f"reply:{token_store}:{conversation}")
            if token_store == store_id and hmac.compare_digest(mac, expected):
                return TokenSearch(conversation, refused=False)
            refused = True
        refused = refused or _ANY_TOKEN.search(value) is not None
    return TokenSearch(None, refused)


def message_id_for(key: bytes, event_id: int, domain: str) -> str:
    """The Message-ID of the email that carries event `event_id`; signed, so that
    nobody can name one of our emails in In-Reply-To without having received it."""
    return f"<portside.{event_id}.{_mac(key, f'message:{event_id}')[:16]}@{domain}>"


def message_ids_in(values: Iterable[str]) -> list[str]:
    """The `<...>` Message-IDs in In-Reply-To/References values, in order, once each."""
    seen: dict[str, None] = {}
    for value in values:
        for found in _MESSAGE_ID.findall(value):
            seen.setdefault(found, None)
    return list(seen)


def client_id_for(message_id: str) -> str:
    """The client_id of the message an inbound email becomes: the same for every
    delivery of one email, so a mail server that delivers it twice stores it once."""
    return "email:" + hashlib.sha256(message_id.encode()).hexdigest()[:40]


def build_reply(reply: OutgoingReply) -> EmailMessage:
    """The email: plain text and a minimal HTML part, both of the agent's words only."""
    store, sender = _one_line(reply.store_name), _one_line(reply.from_name)
    message = EmailMessage()
    message["Subject"] = f"Your conversation with {store}"
    message["From"] = Address(sender, addr_spec=reply.from_address)
    message["To"] = Address(_one_line(reply.to_name or ""), addr_spec=reply.to_address)
    message["Reply-To"] = Address(sender, addr_spec=reply.reply_to)
    message["Message-ID"] = reply.message_id
    message["Date"] = format_datetime(reply.sent_at)
    earlier = list(reply.earlier)[-MAX_REFERENCES:]
    if earlier:
        message["In-Reply-To"] = earlier[-1]
        message["References"] = " ".join(earlier)
    signature = f"{_one_line(reply.agent_name)}, {store}"
    message.set_content(
        f"{REPLY_ABOVE}\n\n{reply.text}\n\n— {signature}\n\n"
        "Reply to this email to continue the conversation.\n"
    )
    paragraphs = "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in re.split(r"\n\s*\n", reply.text)
    )
    message.add_alternative(
        '<!DOCTYPE html><html><body style="font-family:sans-serif">'
        f'<div style="color:#888;font-size:12px">{html.escape(REPLY_ABOVE)}</div>'
        f"{paragraphs}<p>— {html.escape(signature)}</p>"
        '<p style="color:#888;font-size:12px">'
        "Reply to this email to continue the conversation.</p></body></html>",
        subtype="html",
    )
    return message


def _one_line(text: str) -> str:
    """A name fit for a header: no line breaks or other control characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:MAC_HEX]
