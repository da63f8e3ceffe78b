"""What the benchmarks share: a real `portside serve` process and readings of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
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
        "PORTSIDE_DRAIN_S": "0",  # no load balancer to drain from
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


def start_server(
    port: int, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`portside serve` on the port, the schema taken as it is; its output to `log`."""
    with open(log or os.devnull, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "portside.cli", "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextlib.contextmanager
def serving(port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    server = start_server(port, env)
    try:
        yield server
    finally:
        stop_server(server)


async def wait_ready(origin: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{origin}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def node_connections(origin: str) -> dict[str, int]:
    """The node's own count of WebSocket connections in session, by kind (/metrics)."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{origin}/metrics", timeout=10)).text
    return {
        kind: int(float(count))
        for kind, count in re.findall(r'^portside_connections\{kind="(\w+)"\} (\S+)$', text, re.M)
    }


def raise_file_limit(needed: int) -> None:
    """Let this process (and the servers it starts, which inherit it) hold `needed` files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(
            f"this run needs {needed} open files per process but the hard limit is {hard}: "
            "raise it (`ulimit -Hn`, LimitNOFILE= under systemd, nofile in "
            "/etc/security/limits.conf) or ask for fewer connections"
        )
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else hard, hard)
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def rss_mb(pid: int) -> float:
    """Resident memory now (peak_rss_mb is the highest it has been)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """Of sorted values."""
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[index]


def create_store_with_agents(
    env: dict[str, str], name: str, origin: str, agents: int, password: str
) -> tuple[dict[str, Any], list[str]]:
    """A store taking widgets from `origin`, and `agents` agents: the store and their emails
    (unique over a database that keeps earlier runs, as PostgreSQL does)."""
    store = portside(env, "create-store", "--name", name, "--origin", origin)
    emails = [f"agent{n}.{store['id']}@bench.example" for n in range(agents)]
    for n, email in enumerate(emails):
        portside(
            env,
            "create-agent",
            *("--store", str(store["id"]), "--email", email),
            *("--name", f"Agent {n}", "--password", password),
        )
    return store, emails
