"""A store's knowledge: FAQ and policy entries, by language, that the AI agent answers with.

Each entry has a slug, the intents it answers, and a title and a text per language.
Agents read them; a store's admins write them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection

from portside.errors import Forbidden, InvalidRequest, NotFound
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.stores import check_language
from portside.storage import knowledge_store

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# The agent speaks languages, not regions: an entry in "pt" serves Brazil and Portugal.
LANGUAGE = re.compile(r"[a-z]{2,3}")
MAX_TITLE = 200
MAX_TEXT = 2000
MAX_INTENTS = 10


async def list_knowledge(svc: Services, store_id: int) -> list[dict[str, Any]]:
    return await svc.db.read(lambda conn: knowledge_store.list_entries(conn, store_id))


async def do_put_knowledge(
    svc: Services,
    agent: AgentIdentity,
    *,
    slug: str,
    intents: object,
    title: object,
    text: object,
    known_intents: Collection[str],
) -> dict[str, Any]:
    """Create or replace an entry; `known_intents` are the labels the agent recognises."""
    _check_admin(agent)
    entry = {
        "id": check_slug(slug),
        "intents": check_intents(intents, known_intents),
        "title": check_texts(title, "title", MAX_TITLE),
        "text": check_texts(text, "text", MAX_TEXT),
    }
    now = svc.clock.now()
    await svc.db.write(
        lambda conn: knowledge_store.upsert_entries(conn, agent.store_id, [entry], now)
    )
    return entry


async def do_delete_knowledge(svc: Services, agent: AgentIdentity, *, slug: str) -> None:
    _check_admin(agent)

    def delete(conn: Connection) -> int:
        return knowledge_store.delete_entry(conn, agent.store_id, slug)

    if not await svc.db.write(delete):
        raise NotFound(f"There is no knowledge entry {slug!r}.")


def _check_admin(agent: AgentIdentity) -> None:
    if agent.role != "admin":
        raise Forbidden("Only a store's admins can change its knowledge.")


def check_slug(slug: object) -> str:
    if not isinstance(slug, str) or len(slug) > 100 or not SLUG.fullmatch(slug):
        raise _invalid(
            "id",
            "An entry's id is lowercase letters, digits and single hyphens, at most 100 "
            "characters, like 'returns-window'.",
        )
    return slug


def check_intents(intents: object, known: Collection[str]) -> list[str]:
    if not isinstance(intents, list) or not 1 <= len(intents) <= MAX_INTENTS:
        raise _invalid(
            "intents", f"intents lists the 1 to {MAX_INTENTS} intents the entry answers."
        )
    unknown = [i for i in intents if not isinstance(i, str) or i not in known]
    if unknown:
        raise _invalid(
            "intents",
            f"Unknown intents: {', '.join(map(repr, unknown))}. "
            "Use labels of the intent catalogue (docs/agent.md).",
        )
    return list(dict.fromkeys(intents))


def check_texts(texts: object, field: str, limit: int) -> dict[str, str]:
    """{language code: text}, at least one, each trimmed, non-empty and within `limit`."""
    if not isinstance(texts, dict) or not texts:
        raise _invalid(field, f'{field} maps language codes to text, e.g. {{"en": "..."}}.')
    cleaned: dict[str, str] = {}
    for lang, value in texts.items():
        if not isinstance(lang, str) or not LANGUAGE.fullmatch(lang):
            raise _invalid(
                f"{field}.{lang}", f"{field}: {lang!r} is not a language code such as en, zh or pt."
            )
        try:
            check_language(lang)
        except InvalidRequest as exc:
            raise _invalid(f"{field}.{lang}", exc.message) from None
        if not isinstance(value, str) or not value.strip():
            raise _invalid(f"{field}.{lang}", f"{field}[{lang!r}] must be non-empty text.")
        if len(value.strip()) > limit:
            raise _invalid(
                f"{field}.{lang}", f"{field}[{lang!r}] can have at most {limit} characters."
            )
        cleaned[lang] = value.strip()
    return cleaned


def _invalid(field: str, message: str) -> InvalidRequest:
    """An error that names its field (`text.es`), so the console shows it next to it."""
    return InvalidRequest(message, details=[{"field": field, "problem": message}])
