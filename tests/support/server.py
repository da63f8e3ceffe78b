"""A real Portside server in a subprocess on a free port, as users run it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

POSTGRES_URL = os.environ.get("PORTSIDE_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("PORTSIDE_TEST_REDIS_URL", "")


def redis_db(number: int) -> str:
    """The test Redis, on database `number` (keys and channels of its own)."""
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    return f"{base}/{number}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_postgres(url: str) -> None:
    """Empty the test database so each run starts from the migrations."""
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    from portside.config import Settings

    async def reset() -> None:
        engine = create_async_engine(Settings.from_env({"PORTSIDE_DATABASE_URL": url}).database_url)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
        await engine.dispose()

    asyncio.run(reset())


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.base_url

    def settings_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PORTSIDE_DATA_DIR": str(self.data_dir),
            "PORTSIDE_DATABASE_URL": self.database_url,
            # Stopped by SIGTERM without the 5 s drain a load balancer needs; the drain's
            # own tests set it (test_readiness.py).
            "PORTSIDE_DRAIN_S": "0",
            # The suite runs a dozen servers on one PostgreSQL (max_connections 100).
            "PORTSIDE_DATABASE_POOL": "5",
            **self.env,
        }

    def start(self, ready_within: float = 30) -> None:
        self.port = self.port or free_port()
        self.log_path = self.data_dir / f"server-{self.port}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portside.cli", "serve", "--port", str(self.port)],
                env=self.settings_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the node dies mid-traffic, with no goodbye to anyone."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path else ""
