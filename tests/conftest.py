"""Shared fixtures: a live server per database backend, and its services for set-up."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from portside.services.context import Services
from tests.support.cluster import ClusterKit, cluster_kit
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import POSTGRES_URL, LiveServer, reset_postgres

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def _start(tmp_path_factory: pytest.TempPathFactory, backend: str, **env: str) -> LiveServer:
    data_dir = tmp_path_factory.mktemp(f"server-{backend}")
    if backend == "postgres":
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{data_dir / 'portside.db'}"
    server = LiveServer(data_dir=data_dir, database_url=url, env=env)
    server.start()
    return server


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with the default limits, shared by the tests of one backend."""
    # Every test logs in and opens new shoppers from 127.0.0.1, hundreds a minute across
    # the suite; the limits have their own tests. The AI agent is off: these tests are
    # about people talking (the agent's have `bot_server`).
    live = _start(
        tmp_path_factory,
        request.param,
        PORTSIDE_LOGINS_PER_MINUTE="1000",
        PORTSIDE_NEW_VISITORS_PER_MINUTE_PER_IP="1000",
        PORTSIDE_AGENT="off",
    )
    yield live
    live.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def bot_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with the embedded AI agent answering shoppers."""
    # No late answers to turns left unanswered (services/turn_recovery.py): on
    # PostgreSQL this server shares its database with `server`, whose agent is off, and
    # would answer its shoppers in other tests' conversations (test_turn_recovery.py
    # has its own node for that).
    live = _start(
        tmp_path_factory,
        request.param,
        PORTSIDE_LOGINS_PER_MINUTE="1000",
        PORTSIDE_TURN_RECOVERY_S="600",
    )
    yield live
    live.stop()


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterKit]:
    """Portside nodes on the test PostgreSQL and Redis (tests/support/cluster.py), all
    stopped when the test ends. The first node brings the schema up to date; the
    database is not emptied (the session's servers may be using it)."""
    with cluster_kit(tmp_path_factory) as kit:
        yield kit


@pytest.fixture
async def svc(server: LiveServer) -> AsyncIterator[Services]:
    async with services_for(server.database_url, server.data_dir) as services:
        yield services


@pytest.fixture
async def store(svc: Services, server: LiveServer) -> StoreFixture:
    return await make_store(svc, origin=server.origin)


def pytest_report_header() -> list[str]:
    redis = bool(os.environ.get("PORTSIDE_TEST_REDIS_URL"))
    return [f"portside backends: {', '.join(BACKENDS)}; redis: {redis}"]
