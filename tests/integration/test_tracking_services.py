"""Tracking's use cases on the real databases, with a clock the test moves: the bus
message after a batch, the per-visitor limit, and the retention sweep."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from portside.bus.memory import MemoryEventBus
from portside.clock import ManualClock
from portside.config import Settings
from portside.errors import RateLimited
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.settings import do_put_settings
from portside.services.tracking import ACTIVITY_TOPIC, do_track, list_store_events
from portside.services.tracking_retention import do_sweep_events
from portside.storage import store_store
from portside.storage.database import Database
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer


@pytest.fixture
async def clocked(server: LiveServer) -> AsyncIterator[Services]:
    settings = Settings.from_env(
        {"PORTSIDE_DATABASE_URL": server.database_url, "PORTSIDE_DATA_DIR": str(server.data_dir)}
    ).with_secret()
    settings = replace(settings, limits=replace(settings.limits, track_events_per_10s=8))
    db = Database(settings.effective_database_url)
    bus = MemoryEventBus()
    await bus.start()
    try:
        yield Services(settings=settings, db=db, bus=bus, clock=ManualClock())
    finally:
        await bus.close()
        await db.close()


def clock_of(svc: Services) -> ManualClock:
    assert isinstance(svc.clock, ManualClock)
    return svc.clock


async def new_visitor(svc: Services, store_id: int) -> int:
    now = svc.clock.now()

    def insert(conn: Any) -> int:
        return store_store.insert_visitor(
            conn, store_id=store_id, created_at=now, last_seen_at=now, language="es"
        )

    return await svc.db.write(insert)


def view(n: int) -> dict[str, Any]:
    return {
        "client_id": f"e-{uuid.uuid4().hex}",
        "type": "page_view",
        "data": {"url": f"https://shop.example/p/{n}", "title": f"P{n}"},
    }


def admin_of(store: StoreFixture) -> AgentIdentity:
    person = store.agents[0]
    return AgentIdentity(person["id"], store.id, person["name"], person["email"], "admin", "")


async def test_a_batch_publishes_one_activity_message_with_the_new_events(
    clocked: Services, server: LiveServer
) -> None:
    store = await make_store(clocked, origin=server.origin)
    visitor_id = await new_visitor(clocked, store.id)
    got: list[dict[str, Any]] = []
    clocked.bus.subscribe(ACTIVITY_TOPIC, lambda _topic, message: got.append(message))
    await clocked.bus.flush()
    first = view(1)
    await do_track(
        clocked, store_id=store.id, visitor_id=visitor_id, session_id="s", events=[first]
    )
    second = view(2)
    result = await do_track(
        clocked, store_id=store.id, visitor_id=visitor_id, session_id="s", events=[first, second]
    )
    assert (result.stored, result.duplicates) == (1, 1)
    await clocked.bus.flush()
    assert len(got) == 2
    message = got[1]
    assert message["kind"] == "activity"
    assert (message["store_id"], message["visitor_id"], message["session_id"]) == (
        store.id,
        visitor_id,
        "s",
    )
    assert message["visitor"]["language"] == "es"
    assert message["visitor"]["customer_id"] is None
    assert message["visitor"]["tags"] == []
    assert [e["url"] for e in message["events"]] == ["https://shop.example/p/2"]
    assert message["events"][0]["at"] == "2026-01-05T09:00:00.000Z"
    assert isinstance(message["events"][0]["id"], int)
    # A batch of duplicates only says nothing.
    await do_track(
        clocked, store_id=store.id, visitor_id=visitor_id, session_id="s", events=[first]
    )
    await clocked.bus.flush()
    assert len(got) == 2


async def test_a_visitor_is_limited_per_ten_seconds_across_batches(
    clocked: Services, server: LiveServer
) -> None:
    store = await make_store(clocked, origin=server.origin, agents=0)
    visitor_id = await new_visitor(clocked, store.id)
    other = await new_visitor(clocked, store.id)
    track: dict[str, Any] = {"store_id": store.id, "session_id": "s"}
    await do_track(clocked, visitor_id=visitor_id, events=[view(i) for i in range(5)], **track)
    with pytest.raises(RateLimited) as refused:
        await do_track(clocked, visitor_id=visitor_id, events=[view(i) for i in range(4)], **track)
    assert 0 < refused.value.retry_after <= 10
    # Another visitor has a window of their own; this one's fits three more.
    await do_track(clocked, visitor_id=other, events=[view(i) for i in range(8)], **track)
    await do_track(clocked, visitor_id=visitor_id, events=[view(i) for i in range(3)], **track)
    clock_of(clocked).advance(10.5)
    await do_track(clocked, visitor_id=visitor_id, events=[view(i) for i in range(8)], **track)


async def test_the_sweep_deletes_only_what_each_store_keeps_no_longer(
    clocked: Services, server: LiveServer
) -> None:
    short = await make_store(clocked, origin=server.origin, agents=1)
    default = await make_store(clocked, origin=server.origin, agents=1)
    await do_put_settings(clocked, admin_of(short), "tracking", {"retention_days": 3})
    clock = clock_of(clocked)
    visitors = {store.id: await new_visitor(clocked, store.id) for store in (short, default)}
    for day in range(5):  # three page views a day, ten seconds apart
        for store_id, visitor_id in visitors.items():
            for n in range(3):
                clock.advance(10)
                await do_track(
                    clocked,
                    store_id=store_id,
                    visitor_id=visitor_id,
                    session_id=f"d{day}",
                    events=[view(day * 10 + n)],
                )
        clock.advance(86400)
    # Day 0 to 4 are now 5 to 1 days old: the short store (3 days) keeps days 3 and 4; the
    # default (90 days) keeps all. Batches of two make the sweep loop.
    deleted = await do_sweep_events(clocked, batch=2)
    assert deleted >= 9
    kept, _ = await list_store_events(clocked, admin_of(short), limit=100)
    assert sorted({e["session_id"] for e in kept}) == ["d3", "d4"]
    everything, _ = await list_store_events(clocked, admin_of(default), limit=100)
    assert len(everything) == 15
    assert await do_sweep_events(clocked, batch=2) == 0
