"""What the benchmarks share: a real `portside serve` process and readings of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(**settings: str) -> tuple[str, int, dict[str, str]]:
    """A fresh data directory and port: the origin, the port and the server's environment."""
    data_dir = Path(tempfile.mkdtemp(prefix="portside-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "PORTSIDE_DATA_DIR": str(data_dir),
        # One load generator on one address stands for thousands of shoppers.
        "PORTSIDE_CONNECTIONS_PER_IP": "1000000",
        "PORTSIDE_NEW_VISITORS_PER_MINUTE_PER_IP": "1000000",
        **settings,
    }
    return f"http://127.0.0.1:{port}", port, env


def portside(env: dict[str, str], *args: str) -> Any:
    """Run a `portside` command; its last line of output, parsed as JSON."""
    out = subprocess.run(
        [sys.executable, "-m", "portside.cli", *args, "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def serving(port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "portside.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


async def wait_ready(origin: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{origin}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """Of sorted values."""
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[index]
