"""The shopper's email address, given to the bot while the team is away.

Outside business hours the bot offers to continue by email; the address the shopper
then writes is checked, stored on the visitor (where the email relay finds it), and
confirmed by the bot in one transaction, like any reply of the bot's.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import EventType, Standing, Status
from portside.errors import InvalidRequest
from portside.services._log import Outcome, append_message, get_conversation, write
from portside.services.bot import BOT, bot_client_id
from portside.services.context import Services
from portside.services.conversations import SendResult
from portside.services.opening import bot_stands_in
from portside.storage import conversation_store as store
from portside.storage import store_store

MAX_EMAIL = 254
# A local part without spaces or quotes, a domain of dotted labels (letters of any
# script, digits, inner hyphens) ending in a top-level domain of letters.
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(rf"^[^\s@\"(),:;<>\[\\\]]{{1,64}}@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}$", re.UNICODE)


def clean_email(value: object) -> str | None:
    """A well-formed address, its domain lower-cased; None if it is not one."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value) or ".." in value:
        return None
    local, domain = value.rsplit("@", 1)
    if local.startswith(".") or local.endswith("."):
        return None
    return f"{local}@{domain.lower()}"


async def do_save_visitor_email(
    svc: Services,
    *,
    store_id: int,
    conversation_id: int,
    reply_to: int,
    email: str,
    text: str,
    details: dict[str, Any],
) -> SendResult | None:
    """Store the shopper's address and the bot's `text` confirming it, answering their
    message `reply_to`; None if the bot may no longer answer (a person took the
    conversation, or the team opened)."""
    cleaned = clean_email(email)
    if cleaned is None:
        raise InvalidRequest(
            f"{email!r} is not an email address.",
            details=[{"field": "email", "problem": "is not an email address"}],
        )
    client_id = bot_client_id(reply_to)

    def attempt(conn: Connection, careful: bool) -> Outcome[SendResult | None]:
        row = get_conversation(conn, store_id, conversation_id)
        if careful:
            previous = store.find_event_by_client_id(conn, row.id, client_id)
            if previous is not None:
                return SendResult(store.event_from_row(previous, row.visitor_id), True), [], None
        now = svc.clock.now()
        if not bot_stands_in(conn, row, now):
            return None, [], None
        store_store.update_visitor(conn, row.visitor_id, now=now, email=cleaned)
        message = append_message(
            svc,
            conn,
            row,
            BOT,
            EventType.MESSAGE_CREATED,
            text,
            client_id,
            {"bot": {**details, "email_saved": cleaned}},
        )
        standing = Standing(Status(row.status))
        return SendResult(message, False, standing), [message], standing

    return await write(svc, attempt)
