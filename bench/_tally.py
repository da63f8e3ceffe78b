"""What each client received, against the database log: lost and duplicated events.

The log is the record (docs/bus.md): every event of a conversation has a gap-free
`seq`. A shopper must receive every event of its conversation but the internal ones
(notes, context); the agent's console, which was sent the conversation whole when it
took it, every event. An event a client never got is lost; a seq it got twice is
duplicated. A message the load generator sent must be in the log exactly once (the
server stores one per `client_id`, however often it was sent).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from _clients import ResumingClient
from portside.config import Settings
from portside.domain.conversations import INTERNAL_EVENTS
from portside.storage.tables import events


@dataclass(frozen=True)
class Watch:
    """One conversation and the two clients that should see it."""

    conversation_id: int
    shopper: ResumingClient
    console: ResumingClient


@dataclass
class Tally:
    events: int = 0
    lost_by_shopper: int = 0
    lost_by_console: int = 0
    duplicated_to_shopper: int = 0
    duplicated_to_console: int = 0
    # Sent (and acknowledged or not) but not in the log at all.
    sends_not_stored: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.lost_by_shopper + self.lost_by_console + self.sends_not_stored

    @property
    def duplicated(self) -> int:
        return self.duplicated_to_shopper + self.duplicated_to_console

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "lost_by_shopper": self.lost_by_shopper,
            "lost_by_console": self.lost_by_console,
            "duplicated_to_shopper": self.duplicated_to_shopper,
            "duplicated_to_console": self.duplicated_to_console,
            "sends_not_stored": self.sends_not_stored,
            "examples": self.examples[:5],
        }


async def read_log(database_url: str, conversation_ids: list[int]) -> dict[int, list[Any]]:
    """(seq, type, client_id) of every event of the conversations, by conversation."""
    engine = create_async_engine(
        Settings.from_env({"PORTSIDE_DATABASE_URL": database_url}).database_url
    )
    log: dict[int, list[Any]] = defaultdict(list)
    try:
        async with engine.connect() as conn:
            for start in range(0, len(conversation_ids), 500):
                query = (
                    select(
                        events.c.conversation_id, events.c.seq, events.c.type, events.c.client_id
                    )
                    .where(events.c.conversation_id.in_(conversation_ids[start : start + 500]))
                    .order_by(events.c.conversation_id, events.c.seq)
                )
                for row in await conn.execute(query):
                    log[int(row.conversation_id)].append(row)
    finally:
        await engine.dispose()
    return log


def tally(watches: Iterable[Watch], log: dict[int, list[Any]], sent: Iterable[str]) -> Tally:
    result = Tally()
    stored: Counter[str] = Counter()
    for watch in watches:
        rows = log.get(watch.conversation_id, [])
        result.events += len(rows)
        stored.update(row.client_id for row in rows if row.client_id)
        everything = {row.seq for row in rows}
        public = {row.seq for row in rows if row.type not in INTERNAL_EVENTS}
        for client, expected, side in (
            (watch.shopper, public, "shopper"),
            (watch.console, everything, "console"),
        ):
            got = Counter(client.received.get(watch.conversation_id, []))
            lost = sorted(expected - set(got))
            duplicated = sum(times - 1 for times in got.values() if times > 1)
            if side == "shopper":
                result.lost_by_shopper += len(lost)
                result.duplicated_to_shopper += duplicated
            else:
                result.lost_by_console += len(lost)
                result.duplicated_to_console += duplicated
            if lost or duplicated:
                result.examples.append(
                    f"conversation {watch.conversation_id}: the {side} lacks seqs {lost[:10]}, "
                    f"got {duplicated} twice"
                )
    missing = [client_id for client_id in sent if not stored[client_id]]
    result.sends_not_stored = len(missing)
    if missing:
        result.examples.append(f"sent but not stored: {missing[:10]}")
    return result
