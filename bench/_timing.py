"""What `cluster.py` times: messages from one side to the other, and clients coming back
after their node died."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from _idle import ClientReport
from _server import percentile

A = 0  # the node that is killed


@dataclass
class Latency:
    """Sends by client_id, and when the other side first heard each (ms), by phase."""

    sent: dict[str, tuple[float, str]] = field(default_factory=dict)
    heard: dict[str, float] = field(default_factory=dict)
    heard_at: dict[str, float] = field(default_factory=dict)

    def send(self, client_id: str, phase: str) -> None:
        self.sent[client_id] = (time.monotonic(), phase)

    def hear(self, event: dict[str, Any]) -> None:
        client_id = event["data"].get("client_id")
        sent = self.sent.get(client_id)
        if sent is None:
            return
        if client_id not in self.heard:
            now = time.monotonic()
            self.heard[client_id] = (now - sent[0]) * 1000
            self.heard_at[client_id] = now

    def phase(self, phase: str, killed_at: float) -> dict[str, Any]:
        ids = [c for c, (_, p) in self.sent.items() if p == phase]
        ms = sorted(self.heard[c] for c in ids if c in self.heard)
        return {
            "messages": len(ids),
            "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(ms[-1], 2) if ms else None,
            "unheard": len(ids) - len(ms),
            # Sent before the kill, heard only after it: caught in flight by the death.
            "heard_after_kill": sum(1 for c in ids if self.heard_at.get(c, 0) >= killed_at),
        }


def shopper_hears(latency: Latency) -> Any:
    def hear(event: dict[str, Any]) -> None:
        if event["actor"]["type"] == "agent":
            latency.hear(event)

    return hear


def console_hears(latency: Latency) -> Any:
    def hear(event: dict[str, Any]) -> None:
        if event["actor"]["type"] == "visitor":
            latency.hear(event)

    return hear


def reconnects(reports: list[ClientReport], killed_at: float) -> dict[str, Any]:
    """Kill -> welcome again, for every client that was on node A at the kill."""
    times = []
    noticed = []
    tries = []
    missing = 0
    survivors_dropped = 0
    for report in reports:
        before = [w for w in report.welcomed if w[0] < killed_at]
        if not before:
            continue
        welcomed_at, node = before[-1]
        if any(welcomed_at < d < killed_at for d in report.dropped):
            continue  # not connected at the kill
        if node != A:
            survivors_dropped += any(d >= killed_at for d in report.dropped)
            continue
        after = [w for w in report.welcomed if w[0] >= killed_at]
        noticed.extend([(d - killed_at) * 1000 for d in report.dropped if d >= killed_at][:1])
        if after:
            times.append((after[0][0] - killed_at) * 1000)
            tries.append(sum(1 for t in report.tried if killed_at <= t <= after[0][0]))
        else:
            missing += 1
    times.sort()
    noticed.sort()
    return {
        "clients": len(times) + missing,
        "p50_ms": round(percentile(times, 50), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "max_ms": round(times[-1], 1) if times else None,
        "within_5s": sum(1 for t in times if t <= 5000),
        "not_reconnected": missing,
        # Kill -> the client saw its socket close; tries to connect it took.
        "noticed_p99_ms": round(percentile(noticed, 99), 1),
        "tries": dict(sorted(Counter(tries).items())),
        "survivor_clients_dropped": survivors_dropped,
    }
