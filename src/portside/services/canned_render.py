"""Canned replies filled in for one conversation, in the shopper's language.

For each shortcut, the text in the shopper's language (the language the conversation is
held in, else the store's default, else any the reply has), its variables filled from
the visitor, the order most recently named in the conversation, the agent and the store.
A variable with no value stays in the text as `{name}` and is listed in `missing`: the
console asks the agent to fill it before sending, rather than send a hole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.commerce.orders import tracking_url
from portside.domain.canned import first_name, render
from portside.domain.conversations import ActorType, Event, EventType
from portside.domain.order_numbers import find_order_numbers
from portside.errors import NotFound
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.order_lookup import resolve_names
from portside.storage import canned_store, rating_store, store_store
from portside.storage import conversation_store as store

# How far back in a conversation an order counts as named.
RECENT_EVENTS = 500
MAX_RESULTS = 20

# (language, order status) -> the status as the shopper reads it. The web layer passes
# the AI agent's wording (its `status_names`); without one the code itself is shown.
StatusName = Callable[[str, str], str]


def _plain_status(_lang: str, status: str) -> str:
    return status.replace("_", " ")


@dataclass(frozen=True)
class Facts:
    """What a conversation's replies are filled in from."""

    language: str
    store_language: str
    values: dict[str, str | None]


def shopper_language(conn: Connection, row: Any, default_language: str) -> str:
    """The language to write to the shopper in: the one the bot last understood them in,
    else the conversation's (their browser's, when it began), else the store's."""
    found = rating_store.find_bot_language(conn, row.id) or row.language or default_language
    return base_language(found)


def base_language(tag: str) -> str:
    """ "pt-BR" -> "pt": replies are written per language, not per region."""
    return tag.replace("_", "-").split("-")[0].lower()


def named_orders(events: Iterable[Event]) -> list[str]:
    """Order numbers named in the conversation, most recently named last: in messages
    (marked as orders, "LP10231" or "#10231"), the bot's flows and the handoff packets."""
    named: dict[str, None] = {}

    def name(number: object) -> None:
        if isinstance(number, str) and number:
            named.pop(number, None)
            named[number] = None

    for event in events:
        data = event.data
        if event.type is EventType.HANDOFF_CONTEXT:
            for order in data.get("orders") or []:
                if isinstance(order, dict):
                    name(order.get("number"))
        elif event.type is EventType.MESSAGE_CREATED:
            details = data.get("bot") if event.actor.type is ActorType.BOT else None
            flow = details.get("flow") if isinstance(details, dict) else None
            if isinstance(flow, dict):
                name(flow.get("order"))
            for number in find_order_numbers(str(data.get("text", ""))):
                name(number)
    return list(named)


def gather_facts(
    conn: Connection, agent: AgentIdentity, conversation_id: int, status_name: StatusName
) -> Facts:
    row = store.find_conversation(conn, agent.store_id, conversation_id)
    shop = store_store.find_store(conn, agent.store_id)
    if row is None or shop is None:
        raise NotFound("This conversation does not exist.")
    visitor = store_store.find_visitor(conn, agent.store_id, row.visitor_id)
    events = store.list_events(
        conn,
        row.id,
        visitor_id=row.visitor_id,
        after_seq=max(0, int(row.last_seq) - RECENT_EVENTS),
        limit=RECENT_EVENTS,
    )
    # The order named last that the store has (named as the shopper wrote it, "#10231",
    # or by the store's number, "LP10231").
    resolved = resolve_names(conn, agent.store_id, named_orders(events))
    order = next((o for _, o in reversed(resolved) if o is not None), None)
    language = shopper_language(conn, row, shop.default_language)
    name = visitor.name if visitor is not None else None
    status = order.get("status") if order else None
    return Facts(
        language,
        base_language(shop.default_language),
        {
            "first_name": first_name(name),
            "name": name,
            "email": visitor.email if visitor is not None else None,
            "order.number": str(order["number"]) if order else None,
            "order.status": status_name(language, str(status)) if status else None,
            "order.tracking_url": tracking_url(order) if order else None,
            "agent.name": agent.name,
            "store.name": shop.name,
        },
    )


async def list_rendered(
    svc: Services,
    agent: AgentIdentity,
    conversation_id: int,
    *,
    query: str | None = None,
    status_name: StatusName = _plain_status,
) -> dict[str, Any]:
    """The store's replies (matching `query`: a shortcut prefix or words of the text),
    one per shortcut in the shopper's language, filled in for this conversation."""

    def read(conn: Connection) -> tuple[Facts, list[Any]]:
        facts = gather_facts(conn, agent, conversation_id, status_name)
        return facts, canned_store.list_replies(conn, agent.store_id)

    facts, rows = await svc.db.read(read)
    by_shortcut: dict[str, list[Any]] = {}
    for row in rows:
        by_shortcut.setdefault(row.shortcut, []).append(row)
    needle = (query or "").strip().lstrip("/").casefold()
    # Shortcuts that start with what was typed first, then those whose text (in the
    # language the agent would send it in) has it.
    starting: list[tuple[str, Any]] = []
    containing: list[tuple[str, Any]] = []
    for shortcut, versions in by_shortcut.items():
        chosen = pick_language(versions, facts.language, facts.store_language)
        if shortcut.casefold().startswith(needle):
            starting.append((shortcut, chosen))
        elif needle in chosen.text.casefold():
            containing.append((shortcut, chosen))
    found: list[dict[str, Any]] = []
    for shortcut, chosen in [*starting, *containing][:MAX_RESULTS]:
        rendered = render(chosen.text, facts.values)
        found.append(
            {
                "id": chosen.id,
                "shortcut": shortcut,
                "language": chosen.language,
                "languages": sorted(version.language for version in by_shortcut[shortcut]),
                "template": chosen.text,
                "text": rendered.text,
                "missing": list(rendered.missing),
            }
        )
    return {"language": facts.language, "canned_replies": found}


def pick_language(versions: list[Any], language: str, store_language: str) -> Any:
    """The version in the shopper's language, else the store's, else the first."""
    by_language = {version.language: version for version in versions}
    return by_language.get(language) or by_language.get(store_language) or versions[0]
