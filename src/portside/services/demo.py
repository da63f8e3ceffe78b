"""The demo store, so a new install has something real to try."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from portside.services import catalog
from portside.services.context import Services
from portside.services.stores import check_origin, do_create_agent, do_create_store
from portside.storage import knowledge_store, store_store

DEMO_STORE_KEY = "pk_demo_lotus_pine"
DEMO_PASSWORD = "lotus-pine-demo"  # noqa: S105 (printed to the user on purpose)
DEMO_AGENTS = (
    ("mei@lotus-pine.example", "Mei Lin", "admin"),
    ("carlos@lotus-pine.example", "Carlos Ruiz", "agent"),
    ("aiko@lotus-pine.example", "Aiko Tanaka", "agent"),
)


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
            await do_create_agent(
                svc, store_id=store_id, email=email, name=name, password=DEMO_PASSWORD, role=role
            )
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
    await svc.db.write(lambda conn: knowledge_store.upsert_entries(conn, store_id, entries, now))
    return {
        "store_id": store_id,
        "widget_key": DEMO_STORE_KEY,
        "agents": agents,
        "password": DEMO_PASSWORD,
        "products": len(products),
        "knowledge": len(entries),
        "orders": [
            {"number": o["number"], "email": o["email"], "status": o["status"]} for o in orders
        ],
    }


def load_demo_knowledge() -> list[dict[str, Any]]:
    """The demo store's FAQ and policies, in ten languages."""
    path = resources.files("portside.commerce") / "demo_knowledge.json"
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["entries"]
    return entries
