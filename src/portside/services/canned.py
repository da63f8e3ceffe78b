"""A store's canned replies: texts agents insert by shortcut, one per language.

Every agent of the store reads and uses them; its admins and supervisors write them. A
reply's text is checked when it is saved: a variable the server does not know, or a
brace out of place, is refused then with what is wrong and where (domain/canned.py), so
that filling it in for a shopper never fails. For filling in, see canned_render.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.canned import VARIABLES, check_template
from portside.domain.conversations import format_time
from portside.errors import Conflict, Forbidden, InvalidRequest, NotFound
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.stores import check_language
from portside.storage import canned_store

MANAGERS = ("admin", "supervisor")
# A shortcut is typed after "/" in the composer: short, lowercase, no spaces.
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Replies are per language, not region: one in "pt" serves Brazil and Portugal.
LANGUAGE = re.compile(r"[a-z]{2,3}")
MAX_REPLIES = 500
FIELDS = ("shortcut", "language", "text")


def reply_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "shortcut": row.shortcut,
        "language": row.language,
        "text": row.text,
        "variables": check_template(row.text),
        "created_at": format_time(row.created_at),
        "updated_at": format_time(row.updated_at),
    }


def variables_list() -> list[dict[str, str]]:
    return [{"name": name, "description": what} for name, what in VARIABLES.items()]


async def list_canned(
    svc: Services, store_id: int, *, query: str | None = None, language: str | None = None
) -> list[dict[str, Any]]:
    """The store's replies by shortcut; with `query`, those whose shortcut starts with it
    (a leading "/" is ignored) or whose text contains it, shortcut matches first."""
    rows = await svc.db.read(lambda conn: canned_store.list_replies(conn, store_id))
    if language is not None:
        rows = [row for row in rows if row.language == language]
    needle = (query or "").strip().lstrip("/").casefold()
    if needle:
        starting = [row for row in rows if row.shortcut.startswith(needle)]
        containing = [
            row
            for row in rows
            if not row.shortcut.startswith(needle) and needle in row.text.casefold()
        ]
        rows = starting + containing
    return [reply_to_dict(row) for row in rows]


async def do_create_canned(
    svc: Services, agent: AgentIdentity, body: Mapping[str, Any]
) -> dict[str, Any]:
    check_manager(agent)
    fields = check_fields(svc, body, required=True)
    now = svc.clock.now()

    def create(conn: Connection) -> Any:
        if canned_store.count_replies(conn, agent.store_id) >= MAX_REPLIES:
            raise InvalidRequest(
                f"A store can have at most {MAX_REPLIES} canned replies; remove some first."
            )
        _check_free(conn, agent.store_id, fields["shortcut"], fields["language"], None)
        reply_id = canned_store.insert_reply(conn, store_id=agent.store_id, now=now, **fields)
        return canned_store.find_reply(conn, agent.store_id, reply_id)

    return reply_to_dict(await _write_unique(svc, create))


async def do_update_canned(
    svc: Services, agent: AgentIdentity, reply_id: int, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Change any of a reply's shortcut, language and text."""
    check_manager(agent)
    fields = check_fields(svc, body, required=False)

    def change(conn: Connection) -> Any:
        row = canned_store.find_reply(conn, agent.store_id, reply_id)
        if row is None:
            raise NotFound("There is no such canned reply.")
        merged = {"shortcut": row.shortcut, "language": row.language, **fields}
        _check_free(conn, agent.store_id, merged["shortcut"], merged["language"], reply_id)
        if fields:
            canned_store.update_reply(
                conn, agent.store_id, reply_id, updated_at=svc.clock.now(), **fields
            )
        return canned_store.find_reply(conn, agent.store_id, reply_id)

    return reply_to_dict(await _write_unique(svc, change))


async def do_delete_canned(svc: Services, agent: AgentIdentity, reply_id: int) -> None:
    check_manager(agent)
    deleted = await svc.db.write(
        lambda conn: canned_store.delete_reply(conn, agent.store_id, reply_id)
    )
    if not deleted:
        raise NotFound("There is no such canned reply.")


def check_manager(agent: AgentIdentity) -> None:
    if agent.role not in MANAGERS:
        raise Forbidden("Only a store's admins and supervisors can change its canned replies.")


def check_fields(svc: Services, body: Mapping[str, Any], *, required: bool) -> dict[str, str]:
    """The fields given, each checked; with `required`, all three must be there."""
    unknown = sorted(str(key) for key in body if key not in FIELDS)
    if unknown:
        raise _invalid(unknown[0], f"Unknown fields: {', '.join(unknown)}.")
    missing = [name for name in FIELDS if required and body.get(name) is None]
    if missing:
        raise _invalid(missing[0], f"A canned reply needs its {' and '.join(missing)}.")
    checked: dict[str, str] = {}
    if "shortcut" in body:
        checked["shortcut"] = check_shortcut(body["shortcut"])
    if "language" in body:
        checked["language"] = check_reply_language(body["language"])
    if "text" in body:
        checked["text"] = check_text(body["text"], svc.settings.limits.max_message_chars)
    return checked


def check_shortcut(shortcut: object) -> str:
    if isinstance(shortcut, str):
        shortcut = shortcut.strip().removeprefix("/")
    if not isinstance(shortcut, str) or not SHORTCUT.fullmatch(shortcut):
        raise _invalid(
            "shortcut",
            "A shortcut is 1 to 64 lowercase letters, digits, - and _, starting with a "
            "letter or digit, like 'tracking' or 'return-label'.",
        )
    return shortcut


def check_reply_language(language: object) -> str:
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        raise _invalid("language", f"{language!r} is not a language code such as en, zh or pt.")
    try:
        return check_language(language)
    except InvalidRequest as exc:
        raise _invalid("language", exc.message) from None


def check_text(text: object, max_chars: int) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _invalid("text", "A canned reply needs its text.")
    cleaned = text.strip()
    if len(cleaned) > max_chars:
        raise _invalid(
            "text", f"A canned reply can have at most {max_chars} characters, like a message."
        )
    check_template(cleaned, "text")
    return cleaned


def _check_free(
    conn: Connection, store_id: int, shortcut: str, language: str, reply_id: int | None
) -> None:
    existing = canned_store.find_reply_by_key(conn, store_id, shortcut, language)
    if existing is not None and existing.id != reply_id:
        raise _taken(shortcut, language)


def _taken(shortcut: str, language: str) -> Conflict:
    message = f"There is already a canned reply /{shortcut} in {language}."
    return Conflict(message, details=[{"field": "shortcut", "problem": message}])


async def _write_unique(svc: Services, work: Any) -> Any:
    """Run `work`. Of two agents saving the same shortcut and language at once, the
    unique index lets one win; the other is told so."""
    try:
        return await svc.db.write(work)
    except IntegrityError:
        message = "Someone saved a canned reply with this shortcut and language just now."
        raise Conflict(message, details=[{"field": "shortcut", "problem": message}]) from None


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, details=[{"field": field, "problem": message}])
