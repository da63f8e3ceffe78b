"""Several real Portside nodes on one PostgreSQL database and one Redis, and the things a
test breaks under them: a node (SIGKILL), Redis (a private redis-server it stops and
starts again), PostgreSQL (a proxy it cuts).

`ClusterKit` (from `cluster_kit`, or the `cluster` fixture in tests/conftest.py) starts
them, and takes every process and thread down again when the test ends, whatever
happened in it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from portside.config import Settings
from tests.support.proxy import TcpProxy
from tests.support.server import POSTGRES_URL, REDIS_URL, LiveServer, free_port

# A node still running this long after SIGTERM at the end of a test is killed.
STOP_WAIT_S = 5.0
# Several nodes loading the AI agent's models at once on a busy 2-core machine are slow.
READY_WITHIN_S = 90.0
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

# The limits that would trip when every client of a test comes from 127.0.0.1.
NODE_ENV = {
    "PORTSIDE_LOGINS_PER_MINUTE": "1000",
    "PORTSIDE_NEW_VISITORS_PER_MINUTE_PER_IP": "1000",
    "PORTSIDE_CONNECTIONS_PER_IP": "1000",
}


@dataclass
class Cluster:
    """Nodes sharing a database, a Redis and a secret key (a token works on any of
    them), behind one balancer."""

    nodes: list[LiveServer]
    balancer: TcpProxy
    # The database as the test reaches it: straight, even when the nodes go through a
    # proxy the test cuts.
    database_url: str

    @property
    def base_url(self) -> str:
        return f"http://{self.balancer.address}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.balancer.address}"

    def node_of(self, client_port: int) -> LiveServer | None:
        """The node a client socket (by its local port) was balanced to."""
        backend = self.balancer.backend_of(client_port)
        return next((node for node in self.nodes if node.port == backend), None)

    def kill(self, node: LiveServer) -> None:
        node.kill()

    def restart(self, node: LiveServer) -> None:
        """Start a killed node again, on its port (the balancer still lists it)."""
        node.start(READY_WITHIN_S)

    def heal(self) -> None:
        """Start again every node that is not running (a test killed it, or it died)."""
        for node in self.nodes:
            if node.process is None or node.process.poll() is not None:
                node.process = None
                self.restart(node)

    def stop(self) -> None:
        self.balancer.close()
        _stop_all(self.nodes)


class RedisServer:
    """A redis-server of the test's own on a free port, which it may stop and start
    again on that port (the machine's Redis is shared: it is never touched)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer: {self.log()}")

    def stop(self) -> None:
        """Gone at once, as in a crash: nothing it held survives."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@dataclass
class ClusterKit:
    """Starts clusters, private Redis servers and database proxies for one test, and
    stops them all at its end."""

    root: Path
    database_url: str
    redis_url: str
    _clusters: list[Cluster] = field(default_factory=list)
    _redis: list[RedisServer] = field(default_factory=list)
    _proxies: list[TcpProxy] = field(default_factory=list)

    def start(
        self,
        count: int,
        *,
        database_url: str | None = None,
        redis_url: str | None = None,
        **env: str,
    ) -> Cluster:
        """`count` nodes on the database and Redis (the test's, unless given), with
        `env` on top of NODE_ENV, behind a fresh balancer."""
        data_dir = self.root / f"cluster-{len(self._clusters)}"
        # The secret key first, in the data directory they share: nodes starting together
        # would otherwise each make their own.
        settings = Settings.from_env({"PORTSIDE_DATA_DIR": str(data_dir)})
        settings.with_secret()
        nodes = [
            LiveServer(
                data_dir=data_dir,
                database_url=database_url or self.database_url,
                env={"PORTSIDE_REDIS_URL": redis_url or self.redis_url, **NODE_ENV, **env},
                port=free_port(),
            )
            for _ in range(count)
        ]
        cluster = Cluster(nodes, TcpProxy([node.port for node in nodes]), self.database_url)
        self._clusters.append(cluster)
        # The first node brings the schema up to date alone; the others then start together.
        nodes[0].start(READY_WITHIN_S)
        with ThreadPoolExecutor(max(1, count - 1)) as pool:
            list(pool.map(lambda node: node.start(READY_WITHIN_S), nodes[1:]))
        cluster.balancer.start()
        return cluster

    def redis_server(self) -> RedisServer:
        server = RedisServer(self.root / f"redis-{len(self._redis)}")
        self._redis.append(server)
        server.start()
        return server

    def database_proxy(self) -> tuple[TcpProxy, str]:
        """A proxy in front of the test's PostgreSQL, and the URL that goes through it."""
        url = make_url(self.database_url)
        proxy = TcpProxy([url.port or 5432], host=url.host or "127.0.0.1")
        self._proxies.append(proxy)
        proxy.start()
        through = url.set(host="127.0.0.1", port=proxy.port)
        return proxy, through.render_as_string(hide_password=False)

    def close(self) -> None:
        for cluster in self._clusters:
            cluster.stop()
        for proxy in self._proxies:
            proxy.close()
        for server in self._redis:
            server.stop()


def _stop_all(nodes: list[LiveServer]) -> None:
    """SIGTERM to every node at once, then wait a little (a SIGKILL for any that
    lingers: a node that does not stop in time is not what these tests are about)."""
    running = [node for node in nodes if node.process is not None]
    for node in running:
        assert node.process is not None
        with contextlib.suppress(ProcessLookupError):
            node.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_S
    for node in running:
        assert node.process is not None
        try:
            node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()
        node.process = None


@contextlib.contextmanager
def cluster_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterKit]:
    """A kit on the test PostgreSQL and Redis (skips without them), closed at the end."""
    if not (POSTGRES_URL and REDIS_URL):
        pytest.skip("needs PORTSIDE_TEST_POSTGRES_URL and PORTSIDE_TEST_REDIS_URL")
    kit = ClusterKit(tmp_path_factory.mktemp("cluster"), POSTGRES_URL, REDIS_URL)
    try:
        yield kit
    finally:
        kit.close()


def has_redis_server() -> bool:
    """Whether a private Redis can be started (a redis-server binary is installed)."""
    return os.access(REDIS_SERVER, os.X_OK)
