"""The demo store, so a new install has something real to try."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import Connection

from portside.domain.hours import check_holidays, check_hours
from portside.services import catalog
from portside.services.context import Services
from portside.services.demo_engagement import do_seed_engagement
from portside.services.identity import AgentIdentity
from portside.services.stores import check_origin, do_create_agent, do_create_store
from portside.storage import canned_store, knowledge_store, store_store, team_store

DEMO_STORE_KEY = "pk_demo_lotus_pine"
DEMO_PASSWORD = "lotus-pine-demo"  # noqa: S105 (printed to the user on purpose)
DEMO_AGENTS = (
    ("mei@lotus-pine.example", "Mei Lin", "admin"),
    ("carlos@lotus-pine.example", "Carlos Ruiz", "agent"),
    ("aiko@lotus-pine.example", "Aiko Tanaka", "agent"),
    ("lena@lotus-pine.example", "Lena Vogel", "supervisor"),
)
# The languages each demo agent speaks: routing gives them the shoppers who speak them.
DEMO_LANGUAGES = {
    "mei@lotus-pine.example": ["zh", "en"],
    "carlos@lotus-pine.example": ["es", "pt", "en"],
    "aiko@lotus-pine.example": ["ja", "ko", "en"],
    "lena@lotus-pine.example": ["de", "fr", "en"],
}


async def do_seed_demo(svc: Services, *, origins: list[str]) -> dict[str, Any]:
    """Create (or refresh) the demo store, its agents and its catalogue. Idempotent."""
    from portside.commerce.catalog import load_demo_catalog  # only the demo needs it
    from portside.commerce.orders import demo_orders
    from portside.commerce.shipping import demo_shipping, parse_shipping, shipping_to_dict

    store = await svc.db.read(lambda conn: store_store.find_store_by_key(conn, DEMO_STORE_KEY))
    if store is None:
        created = await do_create_store(
            svc,
            name="Lotus & Pine",
            allowed_origins=list(origins),
            default_language="en",
            timezone="Asia/Shanghai",
            widget_key=DEMO_STORE_KEY,
        )
        store_id = int(created["id"])
    else:
        store_id = store.id
        merged = sorted(set(store.allowed_origins) | {check_origin(o) for o in origins})
        await svc.db.write(
            lambda conn: store_store.update_store(conn, store_id, allowed_origins=merged)
        )
    agents = []
    for email, name, role in DEMO_AGENTS:
        exists = await catalog.find_agent_by_email(svc, email)
        if exists is None:
            created_agent = await do_create_agent(
                svc, store_id=store_id, email=email, name=name, password=DEMO_PASSWORD, role=role
            )
            agent_id = int(created_agent["id"])
        else:
            agent_id = int(exists.id)
        await svc.db.write(functools.partial(_set_languages, agent_id, DEMO_LANGUAGES[email]))
        agents.append({"email": email, "name": name, "role": role})
    products = [product.to_dict() for product in load_demo_catalog()]
    await svc.db.write(lambda conn: store_store.upsert_products(conn, store_id, products))
    orders = demo_orders(svc.clock.now().date())
    await svc.db.write(lambda conn: store_store.upsert_orders(conn, store_id, orders))
    shipping = shipping_to_dict(parse_shipping(demo_shipping()))
    await svc.db.write(
        lambda conn: store_store.write_settings_section(conn, store_id, "shipping", shipping)
    )
    # Refunds of orders above $150 go to a person (the demo's store rule).
    await svc.db.write(
        lambda conn: store_store.write_settings_section(
            conn, store_id, "handoff", {"refund_above": 150}
        )
    )
    entries = load_demo_knowledge()
    now = svc.clock.now()
    await svc.db.write(lambda conn: _seed_team(conn, store_id, now))
    svc.opening_hours.forget(store_id)
    svc.store_keys.forget(store_id)
    await svc.db.write(lambda conn: knowledge_store.upsert_entries(conn, store_id, entries, now))
    replies = load_demo_canned_replies()
    await svc.db.write(lambda conn: canned_store.upsert_replies(conn, store_id, replies, now))
    admin = await catalog.find_agent_by_email(svc, DEMO_AGENTS[0][0])
    assert admin is not None
    engagement = await do_seed_engagement(svc, AgentIdentity.from_row(admin))
    return {
        "store_id": store_id,
        "widget_key": DEMO_STORE_KEY,
        "agents": agents,
        "password": DEMO_PASSWORD,
        "products": len(products),
        "knowledge": len(entries),
        "canned_replies": len(replies),
        "engagement": engagement,
        "orders": [
            {"number": o["number"], "email": o["email"], "status": o["status"]} for o in orders
        ],
    }


# The demo's team answers in the store's time zone; outside these hours the bot tells a
# shopper who asks for a person when one is back, in their own local time.
DEMO_TEAM: dict[str, Any] = {
    "name": "Customer care",
    "timezone": "Asia/Shanghai",
    "hours": {
        **{day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "sat": [["10:00", "16:00"]],
    },
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-03", "2027-01-01"],
}


def _seed_team(conn: Connection, store_id: int, now: datetime) -> None:
    """The demo's team, once: hours an admin changed are left as they are."""
    if any(row.name == DEMO_TEAM["name"] for row in team_store.list_teams(conn, store_id)):
        return
    team_store.insert_team(
        conn,
        store_id=store_id,
        name=DEMO_TEAM["name"],
        timezone=DEMO_TEAM["timezone"],
        hours=check_hours(DEMO_TEAM["hours"]),
        holidays=check_holidays(DEMO_TEAM["holidays"]),
        created_at=now,
    )


def load_demo_knowledge() -> list[dict[str, Any]]:
    """The demo store's FAQ and policies, in ten languages."""
    path = resources.files("portside.commerce") / "demo_knowledge.json"
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["entries"]
    return entries


def load_demo_canned_replies() -> list[dict[str, str]]:
    """The demo store's canned replies: greetings, tracking, returns, thanks, in several
    languages."""
    path = resources.files("portside.commerce") / "demo_canned_replies.json"
    replies: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["replies"]
    return replies


def _set_languages(agent_id: int, languages: list[str], conn: Connection) -> None:
    store_store.update_agent(conn, agent_id, languages=languages)
