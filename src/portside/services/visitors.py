"""Shoppers: recognising them across page loads and recording where they are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Event, Standing
from portside.errors import PortsideError, RateLimited, TokenExpired, TokenInvalid
from portside.services.context import Services
from portside.services.conversations import record_context
from portside.services.geo import country_for, valid_timezone
from portside.services.identity import issue_visitor_token, read_visitor_claims, token_predates
from portside.services.inbox import load_visitor_conversation
from portside.services.visitor_presence import lasts_until_renewed
from portside.storage import store_store

# Used with fullmatch: "$" alone would let a trailing newline through.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$")

# Visitor columns a page view may change, and which of them an agent wants to hear about.
_CONTEXT_FIELDS = ("page_url", "page_title", "product", "referrer", "language", "timezone")
_WORTH_AN_EVENT = ("page_url", "page_title", "product")


@dataclass(frozen=True)
class VisitorSession:
    visitor_id: int
    token: str
    name: str | None
    # Set when the shopper's token was refused and a new identity was issued instead.
    token_error: PortsideError | None
    # Their latest conversation (id, status, last_seq), read in the same transaction as
    # the identify: the widget's welcome carries it.
    conversation: dict[str, Any] | None = None
    # Their online state as it now stands (asked for with `online_until`): the value
    # written, or a later one another node wrote that lasts until this node renews it.
    online_until: datetime | None = None


def clean_context(raw: object) -> dict[str, Any]:
    """What a widget says about the page, trimmed to what is well formed; never raises."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    url = _text(raw.get("url"), 2000)
    if url and url.startswith(("https://", "http://")):
        out["page_url"] = url
    title = _text(raw.get("title"), 500)
    if title:
        out["page_title"] = title
    product = raw.get("product")
    if isinstance(product, str) and _SLUG.fullmatch(product):
        out["product"] = product
    referrer = _text(raw.get("referrer"), 2000)
    if referrer and referrer.startswith(("https://", "http://")):
        out["referrer"] = referrer
    language = raw.get("language")
    if isinstance(language, str) and _LANGUAGE.fullmatch(language):
        out["language"] = language
    timezone = valid_timezone(raw.get("timezone"))
    if timezone:
        out["timezone"] = timezone
    return out


async def do_identify_visitor(
    svc: Services,
    *,
    store_id: int,
    token: object,
    context: dict[str, Any],
    address: str,
    user_agent: str | None,
    online_until: datetime | None = None,
) -> VisitorSession:
    """The shopper a token names, or a new one; records the page they are on, and with
    `online_until`, that a widget of theirs is open (services/visitor_presence.py)."""
    visitor_id: int | None = None
    token_error: PortsideError | None = None
    if isinstance(token, str) and token:
        try:
            visitor_id, issued = read_visitor_claims(svc.settings, token, store_id)
        except (TokenInvalid, TokenExpired) as exc:
            token_error = exc
    if visitor_id is None:
        # A new shopper: counted per address, so a script cannot mint endless visitors.
        retry = await svc.limiters.new_visitors.hit(f"ip:{address}")
        if retry:
            raise RateLimited(
                f"Too many new chats from this address; wait {retry:.0f} s.", retry_after=retry
            )

    if visitor_id is not None and online_until is not None:
        back = await _returning(svc, store_id, visitor_id, issued, context)
        if back is not None:
            return back

    # One transaction for the whole hello: a node taking over a dead node's thousands of
    # widgets at once paid a pool checkout, BEGIN and COMMIT for each of the visitor's
    # row, their page and their conversation (bench/cluster.py, docs/benchmarks.md).
    def identify(conn: Connection) -> tuple[Any, tuple[Event, Standing] | None, bool, Any]:
        row = None
        if visitor_id is not None:
            row = store_store.find_visitor(conn, store_id, visitor_id)
            if row is not None and token_predates(issued, row):
                row = None  # an erased shopper's token: their id is someone else's now
        gone = visitor_id is not None and row is None
        if row is None:
            now = svc.clock.now()
            new_id = store_store.insert_visitor(
                conn,
                store_id=store_id,
                created_at=now,
                last_seen_at=now,
                user_agent=(user_agent or "")[:500] or None,
            )
            row = store_store.find_visitor(conn, store_id, new_id)
            assert row is not None
        online = {} if online_until is None else {"online_until": online_until}
        logged = _apply_context(svc, conn, store_id, row, context, **online)
        # After the page's event, which may have been logged in this very conversation.
        return row, logged, gone, load_visitor_conversation(conn, store_id, row.id)

    row, logged, gone, conversation = await svc.db.write(identify)
    if gone:
        token_error = TokenInvalid("This visitor no longer exists; a new one was issued.")
    if logged is not None:
        await svc.publish_events([logged[0]], logged[1])
    return VisitorSession(
        visitor_id=row.id,
        token=issue_visitor_token(svc.settings, store_id, row.id),
        name=row.name,
        token_error=token_error,
        conversation=conversation,
        online_until=online_until,
    )


async def _returning(
    svc: Services, store_id: int, visitor_id: int, issued: datetime, context: dict[str, Any]
) -> VisitorSession | None:
    """A shopper back on the page they were on (their widget's node died, a load
    balancer restarted, another tab): their session from one batched read. Nothing is
    written while their online state lasts until this node renews it; otherwise it is
    renewed in a batch as well. None when the page changed: the hello writes it."""
    back = await svc.hello_batch.visitor(store_id, visitor_id)
    if back is None or token_predates(issued, back.row):
        return None
    row = back.row
    if _context_changes(row, context):
        return None
    online_until = row.online_until
    if not lasts_until_renewed(svc, online_until):
        online_until = await svc.hello_batch.online(row.id)
    return VisitorSession(
        visitor_id=row.id,
        token=issue_visitor_token(svc.settings, store_id, row.id),
        name=row.name,
        token_error=None,
        conversation=back.conversation,
        online_until=online_until,
    )


async def do_update_context(
    svc: Services, *, store_id: int, visitor_id: int, context: dict[str, Any]
) -> None:
    """A single-page store changed page: remember it, and tell the agents."""

    def update(conn: Connection) -> tuple[Event, Standing] | None:
        row = store_store.find_visitor(conn, store_id, visitor_id)
        if row is None:
            return None
        return _apply_context(svc, conn, store_id, row, context)

    logged = await svc.db.write(update)
    if logged is not None:
        await svc.publish_events([logged[0]], logged[1])


def _apply_context(
    svc: Services,
    conn: Connection,
    store_id: int,
    row: Any,
    context: dict[str, Any],
    **also: Any,
) -> tuple[Event, Standing] | None:
    """Record the page in the visitor's row (with `also`, other columns in the same
    statement); the context event worth telling agents, if any."""
    changes = _context_changes(row, context)
    timezone = context.get("timezone", row.timezone)
    language = context.get("language", row.language)
    country = country_for(timezone, language)
    store_store.update_visitor(conn, row.id, now=svc.clock.now(), **changes, **also)
    if not any(k in changes for k in _WORTH_AN_EVENT):
        return None
    data = {
        "url": context.get("page_url", row.page_url),
        "title": context.get("page_title", row.page_title),
        "product": context.get("product", row.product),
        "language": language,
        "timezone": timezone,
        "country": country or row.country,
    }
    return record_context(svc, conn, store_id=store_id, visitor_id=row.id, data=data)


def _context_changes(row: Any, context: dict[str, Any]) -> dict[str, Any]:
    """The visitor's columns the page's context changes (the country worked out from it
    included)."""
    changes = {k: v for k, v in context.items() if getattr(row, k) != v}
    country = country_for(
        context.get("timezone", row.timezone), context.get("language", row.language)
    )
    if country and country != row.country:
        changes["country"] = country
    return changes


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


__all__ = ["VisitorSession", "clean_context", "do_identify_visitor", "do_update_context"]
