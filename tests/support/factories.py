"""Stores and agents made through the same services the CLI and API use."""

from __future__ import annotations

import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from portside.bus.memory import MemoryEventBus
from portside.clock import SystemClock
from portside.config import Settings
from portside.services.context import Services
from portside.services.stores import do_create_agent, do_create_store
from portside.storage import case_store, store_store, team_store, trigger_store
from portside.storage.database import Database

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@contextlib.asynccontextmanager
async def services_for(database_url: str, data_dir: Any) -> AsyncIterator[Services]:
    settings = Settings.from_env(
        {"PORTSIDE_DATABASE_URL": database_url, "PORTSIDE_DATA_DIR": str(data_dir)}
    ).with_secret()
    db = Database(settings.effective_database_url)
    try:
        yield Services(settings=settings, db=db, bus=MemoryEventBus(), clock=SystemClock())
    finally:
        await db.close()


@dataclass
class StoreFixture:
    id: int
    widget_key: str
    name: str
    origin: str
    agents: list[dict[str, Any]]


async def make_store(
    svc: Services, *, origin: str, agents: int = 2, name: str | None = None
) -> StoreFixture:
    n = next(_counter)
    store = await do_create_store(
        svc,
        name=name or f"Store {n}",
        allowed_origins=[origin],
        default_language="en",
        timezone="Asia/Shanghai",
    )
    people = []
    for i in range(agents):
        email = f"agent{i}-{secrets.token_hex(4)}@store{store['id']}.example"
        agent = await do_create_agent(
            svc,
            store_id=store["id"],
            email=email,
            name=f"Agent {i} of {store['id']}",
            password=PASSWORD,
            role="admin" if i == 0 else "agent",
        )
        people.append({**agent, "password": PASSWORD})
    return StoreFixture(store["id"], store["widget_key"], store["name"], origin, people)


RETURN_CASE: dict[str, Any] = {
    "order": "LP-10023",
    "items": [
        {
            "sku": "LS-M-BLUE",
            "name": "Washed linen shirt",
            "size": "M",
            "color": "blue",
            "quantity": 1,
        }
    ],
    "reason": "too_small",
    "resolution": "exchange",
    "exchange_for": {"size": "L"},
    "photos": [],
    "words": "me queda pequeña, ¿la tienen en L?",
    "language": "es",
}


async def make_case(
    svc: Services,
    store_id: int,
    conversation_id: int,
    *,
    kind: str = "exchange",
    data: dict[str, Any] | None = None,
) -> int:
    """A case as the bot opens one, written through storage into the server's database."""
    key = f"test:{secrets.token_hex(6)}"
    now = svc.clock.now()
    return await svc.db.write(
        lambda conn: case_store.insert_case(
            conn,
            store_id=store_id,
            conversation_id=conversation_id,
            kind=kind,
            key=key,
            data=data if data is not None else RETURN_CASE,
            now=now,
        )
    )


async def open_teams_around_the_clock(svc: Services, widget_key: str) -> None:
    """Every team of the store always open. The demo's team keeps office hours in
    Shanghai, and outside them the bot tells shoppers when a person is back: tests of
    the bot and the queue that run at any hour want the store open
    (tests/integration/test_off_hours.py has the hours)."""

    def open_all(conn: Any) -> None:
        store = store_store.find_store_by_key(conn, widget_key)
        assert store is not None
        for team in team_store.list_teams(conn, store.id):
            team_store.update_team(conn, team.id, hours=None)

    await svc.db.write(open_all)


async def switch_off_trigger_rules(svc: Services, widget_key: str) -> None:
    """The store's trigger rules off. The demo's rules speak to a shopper who lingers on
    a product or leaves with a full cart; tests that are not about them must not meet a
    proactive message they did not ask for. Tests about them make their own rules."""

    def switch_off(conn: Any) -> None:
        store = store_store.find_store_by_key(conn, widget_key)
        assert store is not None
        for rule in trigger_store.list_triggers(conn, store.id):
            trigger_store.update_trigger(conn, store.id, rule.id, enabled=False)

    await svc.db.write(switch_off)
