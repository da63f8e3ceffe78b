"""Leases on jobs one node runs at a time, on the SQLite file and on PostgreSQL: two
processes taking the same leases at once, renewal, hand-over when the holder's lease
lapses or it lets go, and a leased job running on one node of two."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from portside.clock import ManualClock
from portside.services.context import Services
from portside.services.leases import Lease, LeasedJob, do_release_lease, do_take_lease
from portside.storage import lease_store
from tests.support.racing import race

NAMES = 40


def node(svc: Services, clock: ManualClock | None = None) -> Services:
    """Another node on the same database: its own node id (and clock, if given)."""
    return Services(settings=svc.settings, db=svc.db, bus=svc.bus, clock=clock or svc.clock)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _run_two_takers(url: str, names: list[str]) -> dict[str, list[str]]:
    """Start two taker processes, let them go together; which owners got each name."""
    owners = ("one", "two")
    outputs = race([["tests.support.lease_taker", url, owner, *names] for owner in owners])
    winners: dict[str, list[str]] = {name: [] for name in names}
    for owner, output in zip(owners, outputs, strict=True):
        for name, taken in output:
            if taken:
                winners[name].append(owner)
    return winners


async def test_of_two_processes_taking_the_same_leases_exactly_one_gets_each(
    svc: Services,
) -> None:
    # New leases (the row inserted by one of them) and lapsed ones (a node died holding
    # them: the row taken over by one of them), interleaved.
    fresh = [unique("fresh") for _ in range(NAMES)]
    lapsed = [unique("lapsed") for _ in range(NAMES)]
    past = svc.clock.now() - timedelta(minutes=5)
    for name in lapsed:
        await svc.db.write(
            lambda conn, name=name: lease_store.take_lease(
                conn, name, "dead-node", past, past + timedelta(seconds=10)
            )
        )
    names = [name for pair in zip(fresh, lapsed, strict=True) for name in pair]

    winners = await asyncio.to_thread(_run_two_takers, svc.db.url, names)

    assert all(len(owners) == 1 for owners in winners.values()), winners
    rows = {
        name: await svc.db.read(lambda c, n=name: lease_store.find_lease(c, n)) for name in names
    }
    assert {name: row.owner for name, row in rows.items()} == {
        name: owners[0] for name, owners in winners.items()
    }


async def test_the_holder_renews_others_wait_until_it_lapses_then_one_takes_over(
    svc: Services,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    a, b = node(svc, clock), node(svc, clock)
    name = unique("renewal")

    assert await do_take_lease(a, name, a.node_id, ttl_s=10)
    assert not await do_take_lease(b, name, b.node_id, ttl_s=10)
    clock.advance(8)
    assert await do_take_lease(a, name, a.node_id, ttl_s=10)  # renewed: until +18
    clock.advance(7)
    assert not await do_take_lease(b, name, b.node_id, ttl_s=10)
    # a dies: nobody renews it.
    clock.advance(4)
    assert await do_take_lease(b, name, b.node_id, ttl_s=10)
    # a comes back: it is b's now.
    assert not await do_take_lease(a, name, a.node_id, ttl_s=10)
    row = await svc.db.read(lambda conn: lease_store.find_lease(conn, name))
    assert (row.owner, row.until) == (b.node_id, clock.now() + timedelta(seconds=10))


async def test_a_lease_let_go_is_taken_at_once_and_only_its_holder_lets_go(
    svc: Services,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    a, b = node(svc, clock), node(svc, clock)
    name = unique("release")
    assert await do_take_lease(a, name, a.node_id, ttl_s=60)
    assert not await do_release_lease(b, name, b.node_id)
    assert not await do_take_lease(b, name, b.node_id, ttl_s=60)
    assert await do_release_lease(a, name, a.node_id)
    assert await do_take_lease(b, name, b.node_id, ttl_s=60)


async def test_a_lease_counts_its_terms_and_a_node_on_its_own_needs_no_row(
    svc: Services,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    a, b = node(svc, clock), node(svc, clock)
    name = unique("terms")
    mine, theirs = Lease(a, name, 10, shared=True), Lease(b, name, 10, shared=True)
    assert await mine.hold()
    assert await mine.hold()  # renewed: the same term
    assert (mine.held, mine.term) == (True, 1)
    assert not await theirs.hold()
    clock.advance(11)  # a stalled past its TTL (a long pause, a lost database)
    assert await theirs.hold()
    assert not await mine.hold()
    assert (mine.held, theirs.term) == (False, 1)
    await theirs.release()
    assert await mine.hold()
    assert mine.term == 2  # taken again: a new term

    alone = Lease(a, unique("alone"), 10, shared=False)
    assert await alone.hold()
    assert await svc.db.read(lambda conn: lease_store.find_lease(conn, alone.name)) is None


async def test_a_leased_job_runs_on_one_node_and_passes_on_when_its_holder_stops(
    svc: Services,
) -> None:
    name = unique("job")
    runs = {"a": 0, "b": 0}
    enough = {"a": asyncio.Event(), "b": asyncio.Event()}
    began = asyncio.Event()

    def counting(key: str) -> LeasedJob:
        async def work() -> None:
            runs[key] += 1
            began.set()
            if runs[key] >= 10:
                enough[key].set()

        return LeasedJob(node(svc), name, work, every_s=0.05, ttl_s=60, shared=True)

    job_a = counting("a")
    job_a.start()
    job_b = counting("b")
    try:
        await asyncio.wait_for(began.wait(), 30)
        job_b.start()
        await asyncio.wait_for(enough["a"].wait(), 30)
        assert runs["b"] == 0
        assert job_a.lease.held and not job_b.lease.held

        await job_a.close()  # lets go: b takes it at its next round, not a minute later
        await asyncio.wait_for(enough["b"].wait(), 10)
        assert job_b.lease.held
        row = await svc.db.read(lambda conn: lease_store.find_lease(conn, name))
        assert row.owner == job_b.svc.node_id
    finally:
        await job_a.close()
        await job_b.close()
