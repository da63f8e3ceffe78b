"""SLA clocks of a conversation a person answers: first response, next response and
resolution, against a store's targets. The human clocks start at the handoff; the bot's
time before it is its own (analytics measure it separately)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class SlaTargets:
    """Seconds allowed for each clock (None: no target), and how long before a target
    the desk is warned."""

    first_response_s: int | None = None
    next_response_s: int | None = None
    resolution_s: int | None = None
    warn_before_s: int = 60


@dataclass(frozen=True)
class Clock:
    kind: str  # "first_response", "next_response", "resolution"
    due_at: datetime

    def state(self, now: datetime, warn_before_s: int) -> str:
        """ "ok", "warning" (within the warning time) or "breached"."""
        if now >= self.due_at:
            return "breached"
        if now >= self.due_at - timedelta(seconds=warn_before_s):
            return "warning"
        return "ok"


def running_clocks(conversation: Any, targets: SlaTargets) -> list[Clock]:
    """The clocks running for a conversation now, soonest due first. None run for a
    conversation that never went to a person, or that is resolved."""
    handoff_at = conversation.handoff_at
    if handoff_at is None or conversation.status in ("resolved", "bot"):
        return []
    clocks = []
    if conversation.first_reply_at is None and targets.first_response_s is not None:
        clocks.append(
            Clock("first_response", handoff_at + timedelta(seconds=targets.first_response_s))
        )
    if (
        conversation.first_reply_at is not None
        and conversation.awaiting_since is not None
        and targets.next_response_s is not None
    ):
        clocks.append(
            Clock(
                "next_response",
                conversation.awaiting_since + timedelta(seconds=targets.next_response_s),
            )
        )
    if targets.resolution_s is not None:
        clocks.append(Clock("resolution", handoff_at + timedelta(seconds=targets.resolution_s)))
    return sorted(clocks, key=lambda c: c.due_at)
