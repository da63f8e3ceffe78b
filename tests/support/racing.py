"""OS processes racing on one database (two nodes doing the same work at once), for the
tests of coupon issuance and job leases.

The test side starts each worker, waits until every one says "ready" (its database is
open), then tells them all to go together and reads the one JSON line each prints last.
The worker side says "ready" and waits for that word.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def race(modules_and_args: list[list[str]]) -> list[Any]:
    """Run `python -m MODULE ARGS...` for each, let them go at once; what each printed."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for command in modules_and_args
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, _ = process.communicate(timeout=120)
            assert process.returncode == 0
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


async def ready_then_go() -> None:
    """The worker's side: say it is ready, and wait for the word to go."""
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
