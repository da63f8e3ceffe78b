"""Shoppers' turns a dead node was answering: found in the log and answered here.

A shopper's turn is announced to the AI agent of the node that stored it only. If that
node dies (or stops) before the reply is stored, nobody else heard the turn, so the node
holding the lease "agent-turns" looks in the log every few seconds for turns older than
`turn_recovery_s` (a live node has answered by then) and younger than TURN_WINDOW, with
no reply (client_id "bot:<event id>"), in conversations the bot still answers, and hands
them to its own agent. The reply keeps its client_id, so however many nodes answer a
turn, one reply is stored.

The bot may rightly not answer a turn (a person took the conversation, the queue opened,
the answer failed): it is not asked again and again. The holder reads the log forward
from a cursor, so each turn is looked at once in a lease-term; only a new term (another
node may have been the holder in between) looks back over the window again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection

from portside.services.context import Services
from portside.services.leases import LeasedJob
from portside.services.opening import bot_stands_in
from portside.storage import turn_store

log = logging.getLogger(__name__)

LEASE = "agent-turns"
# Turns older than this are not answered late: the shopper has moved on.
TURN_WINDOW = timedelta(minutes=10)
# How often the holder looks, at most (more often with a shorter turn_recovery_s).
EVERY_S = 5.0
# Turns read at once.
BATCH = 500

Answer = Callable[[dict[str, Any]], None]


def turn_message(row: Any) -> dict[str, Any]:
    """A stored turn as services/conversations.py announces it on TURNS_TOPIC."""
    data = row.data or {}
    return {
        "store_id": int(row.store_id),
        "conversation_id": int(row.conversation_id),
        "visitor_id": int(row.visitor_id),
        "event_id": int(row.id),
        "seq": int(row.seq),
        "text": str(data.get("text") or ""),
        "attachments": data.get("attachments") or [],
    }


async def has_bot_reply(svc: Services, conversation_id: int, event_id: int) -> bool:
    return await svc.db.read(lambda conn: turn_store.has_bot_reply(conn, conversation_id, event_id))


class TurnRecovery:
    """The leased job: `answer` is given each turn found (the agent queues it)."""

    def __init__(self, svc: Services, answer: Answer, *, shared: bool | None = None) -> None:
        self.svc = svc
        self.answer = answer
        self.grace = timedelta(seconds=svc.settings.limits.turn_recovery_s)
        every_s = min(EVERY_S, max(0.5, self.grace.total_seconds() / 2))
        self.job = LeasedJob(svc, LEASE, self.recover, every_s=every_s, shared=shared)
        # Turns up to this event id have been looked at in this lease-term.
        self._after = 0
        self._term = 0

    @property
    def enabled(self) -> bool:
        """Off when turns would have to wait past the window."""
        return self.grace < TURN_WINDOW

    def start(self) -> None:
        if self.enabled:
            self.job.start()

    async def close(self) -> None:
        await self.job.close()

    async def recover(self) -> int:
        """Hand the agent the turns found since the last look; how many."""
        db, now = self.svc.db, self.svc.clock.now()
        since, by = now - TURN_WINDOW, now - self.grace
        if self._term != self.job.lease.term:
            # A new term: look back over the whole window.
            self._term = self.job.lease.term
            first = await db.read(lambda conn: turn_store.find_first_event_since(conn, since))
            if first is None:
                last = await db.read(lambda conn: turn_store.find_last_event_before(conn, 0, now))
                self._after = last or 0
            else:
                self._after = first - 1
        after = self._after
        up_to = await db.read(lambda conn: turn_store.find_last_event_before(conn, after, by))
        if up_to is None:
            return 0
        handed = 0
        while True:
            turns, last = await db.read(
                partial(_unanswered, after=after, up_to=up_to, since=since, now=now)
            )
            for turn in turns:
                self.answer(turn)
            handed += len(turns)
            if last is None:
                break
            after = last
        self._after = up_to
        if handed:
            self.svc.metrics.turns_recovered(handed)
            log.info("answering %d shoppers' turns left unanswered", handed)
        return handed


def _unanswered(
    conn: Connection, *, after: int, up_to: int, since: datetime, now: datetime
) -> tuple[list[dict[str, Any]], int | None]:
    """One batch of unanswered turns in (after, up_to], and the id to go on from if
    there may be more (None: that was the last batch)."""
    rows = turn_store.list_unanswered_turns(
        conn, after_id=after, up_to_id=up_to, since=since, limit=BATCH
    )
    # In the queue, the bot answers only while no person can be reached.
    turns = [turn_message(row) for row in rows if bot_stands_in(conn, row, now)]
    return turns, (int(rows[-1].id) if len(rows) == BATCH else None)
