"""The nodes of `cluster.py`: two `portside serve` processes sharing PostgreSQL, Redis
and a secret key, which the benchmark starts, kills and starts again; and the store
they serve."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from _server import bench_env, create_store_with_agents, start_server, stop_server
from portside.config import Settings

SHOP = "https://shop.bench.example"
PASSWORD = "bench-password-1"
NODE_SETTINGS = {
    "PORTSIDE_AGENT": "off",  # people talking; the AI agent has bot_latency.py
    "PORTSIDE_AGENT_MESSAGES_PER_10S": "1000000",
    "PORTSIDE_LOGINS_PER_MINUTE": "1000",
}


@dataclass
class Node:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.process = start_server(self.port, self.env, self.log)

    async def ready(self) -> None:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                if self.process is None or self.process.poll() is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.origin}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise SystemExit(f"node {self.name} did not start; the end of {self.log}:\n{tail}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)


async def check_services(database_url: str, redis_url: str) -> None:
    """Both reachable, or a clear message before anything starts."""
    try:
        url = Settings.from_env({"PORTSIDE_DATABASE_URL": database_url}).database_url
    except ValueError as exc:
        raise SystemExit(f"--database-url: {exc}") from None
    if not url.startswith("postgresql"):
        raise SystemExit(f"--database-url must be a postgresql:// URL, got {database_url!r}")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
    except Exception as exc:
        raise SystemExit(f"cannot reach PostgreSQL at {database_url}: {exc}") from None
    finally:
        await engine.dispose()
    try:
        client = redis.Redis.from_url(redis_url)
        await client.ping()
        await client.aclose()
    except Exception as exc:
        raise SystemExit(f"cannot reach Redis at {redis_url}: {exc}") from None


def make_nodes(database_url: str, redis_url: str, root: Path) -> list[Node]:
    secret = secrets.token_urlsafe(48)  # the same on every node: a token works on any
    nodes = []
    for name in ("A", "B"):
        _, port, env = bench_env(
            PORTSIDE_DATABASE_URL=database_url,
            PORTSIDE_REDIS_URL=redis_url,
            PORTSIDE_SECRET_KEY=secret,
            **NODE_SETTINGS,
        )
        nodes.append(Node(name, port, env, root / f"node-{name}.log"))
    return nodes


def set_up_store(env: dict[str, str], agents: int) -> tuple[dict[str, Any], list[str]]:
    """The schema once, before any node starts (they start with --no-migrate); a store
    and its agents."""
    subprocess.run(
        [sys.executable, "-m", "portside.cli", "migrate"],
        env=env,
        check=True,
        capture_output=True,
    )
    return create_store_with_agents(env, "Bench cluster", SHOP, agents, PASSWORD)


def load_average() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]
