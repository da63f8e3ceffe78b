"""What a load balancer sees: /healthz, /readyz with each check named, and the drain on
SIGTERM (503 first, then the clients' sockets closed with 1012), on real server processes."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from alembic import command
from sqlalchemy.engine import make_url
from websockets.protocol import State

from portside.readiness import Answer, Drain, Readiness
from portside.realtime.protocol import Close
from portside.storage.database import Database
from portside.storage.migrate import alembic_config, head_revision
from tests.support.clients import client_id, widget
from tests.support.factories import make_store, services_for
from tests.support.proxy import TcpProxy
from tests.support.server import POSTGRES_URL, REDIS_URL, LiveServer

NODE_ENV = {"PORTSIDE_AGENT": "off"}


def readyz(server: LiveServer) -> httpx.Response:
    return httpx.get(f"{server.base_url}/readyz", timeout=10)


def wait_for_status(server: LiveServer, status: int) -> dict[str, Any]:
    """The first /readyz answer with `status` (the node gets there by itself)."""
    deadline = time.monotonic() + 30
    last = None
    while time.monotonic() < deadline:
        last = readyz(server)
        if last.status_code == status:
            body: dict[str, Any] = last.json()
            return body
        time.sleep(0.05)
    raise AssertionError(f"/readyz never answered {status}; last: {last and last.text}")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'portside.db'}",
        env={**NODE_ENV, "PORTSIDE_DRAIN_S": "5"},
    )
    live.start()
    yield live
    live.stop()


def test_ready_node_names_each_check(server: LiveServer) -> None:
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
    answer = readyz(server)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == {
        "status": "ready",
        "checks": {
            "database": {"status": "ok"},
            "schema": {"status": "ok", "revision": head_revision(), "code": head_revision()},
            "bus": {"status": "ok", "kind": "memory"},
            "draining": {"status": "ok"},
        },
    }


async def test_sigterm_drains_then_asks_clients_to_reconnect(node: LiveServer) -> None:
    async with services_for(node.database_url, node.data_dir) as svc:
        store = await make_store(svc, origin=node.origin, agents=0)
    async with widget(node.ws_url, store.widget_key, node.origin) as shopper:
        await shopper.expect("welcome")
        assert node.process is not None
        node.process.send_signal(signal.SIGTERM)

        body = await asyncio.to_thread(wait_for_status, node, 503)
        assert body["status"] == "draining"
        assert body["checks"]["draining"]["status"] == "draining"
        assert body["error"]["code"] == "draining"
        assert body["checks"]["database"] == {"status": "ok"}
        # Meanwhile the clients here are served as before.
        assert shopper.ws.state is State.OPEN
        cid = client_id()
        await shopper.send(type="message.send", client_id=cid, text="still there?")
        assert (await shopper.expect("ack"))["client_id"] == cid

        assert await shopper.closed_with(timeout=30) == Close.RESTARTING
        assert shopper.ws.close_reason == "server restarting"
    assert await asyncio.to_thread(node.process.wait, 30) == 0
    node.process = None


def test_a_second_sigterm_ends_the_drain_at_once(tmp_path: Path) -> None:
    live = LiveServer(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'portside.db'}",
        env={**NODE_ENV, "PORTSIDE_DRAIN_S": "600"},
    )
    live.start()
    try:
        assert live.process is not None
        live.process.send_signal(signal.SIGTERM)
        assert wait_for_status(live, 503)["status"] == "draining"
        live.process.send_signal(signal.SIGTERM)
        # Well before the ten minutes of drain it was given.
        assert live.process.wait(timeout=60) is not None
    finally:
        live.stop()


@pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="needs PORTSIDE_TEST_POSTGRES_URL and PORTSIDE_TEST_REDIS_URL",
)
def test_readiness_follows_the_database_and_reports_redis(tmp_path: Path) -> None:
    """A node whose PostgreSQL and Redis are behind switches the test can cut."""
    database = make_url(POSTGRES_URL)
    redis = urlsplit(REDIS_URL)
    database_switch = TcpProxy([database.port or 5432]).start()
    redis_switch = TcpProxy([redis.port or 6379]).start()
    live = LiveServer(
        data_dir=tmp_path,
        database_url=database.set(host="127.0.0.1", port=database_switch.port).render_as_string(
            hide_password=False
        ),
        env={
            **NODE_ENV,
            "PORTSIDE_REDIS_URL": redis._replace(netloc=redis_switch.address).geturl(),
        },
    )
    try:
        live.start()
        assert readyz(live).json()["checks"]["bus"] == {"status": "ok", "kind": "redis"}

        # Redis away: still ready (the node serves its own clients), and says so.
        redis_switch.cut()
        deadline = time.monotonic() + 30
        while (answer := readyz(live)).json()["checks"]["bus"]["status"] == "ok":
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.05)
        assert answer.status_code == 200
        assert answer.json()["status"] == "ready"
        bus = answer.json()["checks"]["bus"]
        assert bus["status"] == "degraded"
        assert "Redis is unreachable" in bus["message"]
        redis_switch.restore()

        # The database away: not ready, and why.
        database_switch.cut()
        body = wait_for_status(live, 503)
        assert body["status"] == "not_ready"
        assert body["error"]["code"] == "not_ready"
        assert body["checks"]["database"]["status"] == "failed"
        assert "database" in body["checks"]["database"]["message"]
        assert "schema" not in body["checks"]
        # Alive all the same: a supervisor must not restart it for the database's sake.
        assert httpx.get(f"{live.base_url}/healthz").status_code == 200

        # Both back: ready again, without a restart.
        database_switch.restore()
        body = wait_for_status(live, 200)
        assert body["checks"]["schema"]["status"] == "ok"
        assert body["checks"]["bus"] == {"status": "ok", "kind": "redis"}
    finally:
        live.stop()
        database_switch.close()
        redis_switch.close()


async def check_at(url: str, revision: str | None) -> Answer:
    """Readiness of a database whose schema is at `revision` (None: no schema at all)."""
    if revision is not None:
        await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
    db = Database(url)
    try:
        return await Readiness(db, Drain()).check()
    finally:
        await db.close()


async def test_a_schema_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    answer = await check_at(f"sqlite:///{tmp_path / 'old.db'}", "0008")
    assert not answer.ready
    schema = answer.body["checks"]["schema"]
    assert schema["status"] == "failed"
    assert (schema["revision"], schema["code"]) == ("0008", head_revision())
    assert "run `portside migrate`" in schema["message"]
    assert answer.body["error"]["message"] == schema["message"]


async def test_a_database_without_schema_is_not_ready(tmp_path: Path) -> None:
    answer = await check_at(f"sqlite:///{tmp_path / 'empty.db'}", None)
    assert not answer.ready
    assert answer.body["checks"]["schema"]["message"] == (
        "The database has no schema: run `portside migrate`."
    )


async def test_a_schema_a_newer_release_migrated_keeps_old_nodes_ready(tmp_path: Path) -> None:
    """Migrations run before a rolling restart: the nodes not yet replaced stay in."""
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    await check_at(url, "head")
    db = Database(url)
    try:
        await db.write(
            lambda conn: conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        )
        answer = await Readiness(db, Drain()).check()
    finally:
        await db.close()
    assert answer.ready
    assert answer.body["checks"]["schema"] == {
        "status": "ok",
        "state": "ahead",
        "revision": "9999",
        "code": head_revision(),
    }
