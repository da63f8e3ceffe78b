"""The demo store's engagement: a coupon pool and two trigger rules, so that a shopper
who lingers on a product, or leaves with a full cart, is spoken to first."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

from portside.services.context import Services
from portside.services.coupon_codes import do_generate_codes
from portside.services.coupons import do_create_pool
from portside.services.identity import AgentIdentity
from portside.services.triggers import do_create_trigger
from portside.storage import coupon_store, trigger_store

# Generated again when fewer than this many codes are left, so the demo never runs dry.
REFILL_BELOW = 50


def load_demo_engagement() -> dict[str, Any]:
    path = resources.files("portside.commerce") / "demo_engagement.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


async def do_seed_engagement(svc: Services, admin: AgentIdentity) -> dict[str, Any]:
    """Create the demo pool and rules once; rules an admin changed or deleted since are
    left as they are (matched by name). Tops the pool up when it runs low."""
    demo = load_demo_engagement()
    store_id = admin.store_id
    pools = await svc.db.read(lambda conn: coupon_store.list_pools(conn, store_id))
    pool = next((p for p in pools if p.name == demo["pool"]["name"]), None)
    pool_id = (
        int(pool.id)
        if pool is not None
        else int((await do_create_pool(svc, admin, demo["pool"]))["id"])
    )
    counts = await svc.db.read(lambda conn: coupon_store.count_codes(conn, store_id, pool_id))
    if counts.get(pool_id, {}).get("free", 0) < REFILL_BELOW:
        await do_generate_codes(svc, admin, pool_id, demo["codes"])
    existing = await svc.db.read(lambda conn: trigger_store.list_triggers(conn, store_id))
    names = {row.name for row in existing}
    for rule in demo["rules"]:
        if rule["name"] in names:
            continue
        body = copy.deepcopy(rule)
        if body["actions"]["coupon"] == "POOL":
            body["actions"]["coupon"] = {"pool_id": pool_id}
        await do_create_trigger(svc, admin, body)
    return {"coupon_pool": demo["pool"]["name"], "rules": [r["name"] for r in demo["rules"]]}
