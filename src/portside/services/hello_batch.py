"""What a returning widget's hello asks of the database, batched across widgets
(services/_batch.py).

When a node dies, its thousands of widgets say hello to the others within a second.
Each used to cost a write transaction (the visitor's row, page and online state) and a
read of its conversation's log, a dozen statements in all; the survivor spent 20 s of
CPU on 5,500 of them (bench/cluster.py). A widget coming back to the same page needs
neither: these reads give its visitor row with the latest conversation, and afterwards
the conversation's last seq, for many widgets at once; if the shopper's online state
does not last until this node renews it (their widgets all closed, as when a load
balancer restarts), it is renewed for many at once too, with the renewal's statement.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from portside.services import visitor_presence
from portside.services._batch import Batcher
from portside.storage import conversation_store, store_store

if TYPE_CHECKING:  # the services' context holds this module's batches
    from portside.services.context import Services


@dataclass(frozen=True)
class Returning:
    """A visitor's row and their latest conversation's (None if they have none)."""

    row: Any
    conversation: dict[str, Any] | None


# (store_id, visitor_id) and (store_id, conversation_id)
_Key = tuple[int, int]


class HelloBatch:
    """A node's batched work for widgets' hellos; one per Services."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc
        self._db = svc.db
        self._stores: Batcher[str, Any] = Batcher(self._read_stores)
        self._visitors: Batcher[_Key, Returning] = Batcher(self._read_visitors)
        self._last_seqs: Batcher[_Key, int] = Batcher(self._read_last_seqs)
        self._online: Batcher[int, datetime] = Batcher(self._renew_online)

    async def online(self, visitor_id: int) -> datetime | None:
        """Renew the visitor's online state (a visitor the store has, read before):
        the online_until written."""
        return await self._online.get(visitor_id)

    async def _renew_online(self, visitor_ids: list[int]) -> dict[int, datetime]:
        until = await visitor_presence.do_renew_online(self._svc, padded(visitor_ids))
        return {} if until is None else dict.fromkeys(visitor_ids, until)

    async def store(self, widget_key: str) -> Any:
        """The store with this widget key; None if there is none. (Kept a few seconds
        by services/store_keys.py; when the kept copy expires in a storm, the thousands
        of hellos that find it gone read it once, not once each.)"""
        return await self._stores.get(widget_key)

    async def visitor(self, store_id: int, visitor_id: int) -> Returning | None:
        """The store's visitor with their latest conversation; None if there is none."""
        return await self._visitors.get((store_id, visitor_id))

    async def last_seq(self, store_id: int, conversation_id: int) -> int | None:
        """The conversation's last seq; None if the store has no such conversation."""
        return await self._last_seqs.get((store_id, conversation_id))

    async def _read_stores(self, keys: list[str]) -> dict[str, Any]:
        def read(conn: Connection) -> dict[str, Any]:
            rows = store_store.find_stores_by_keys(conn, padded(keys))
            return {row.widget_key: row for row in rows}

        found: dict[str, Any] = await self._db.read(read, urgent=True)
        return found

    async def _read_visitors(self, keys: list[_Key]) -> dict[_Key, Returning]:
        def read(conn: Connection) -> dict[_Key, Returning]:
            found: dict[_Key, Returning] = {}
            for store_id, ids in _by_store(keys).items():
                rows = store_store.find_visitors(conn, store_id, ids)
                latest = {
                    row.visitor_id: {"id": row.id, "status": row.status, "last_seq": row.last_seq}
                    for row in conversation_store.find_latest_conversations_for_visitors(
                        conn, store_id, ids
                    )
                }
                for row in rows:
                    found[(store_id, row.id)] = Returning(row, latest.get(row.id))
            return found

        found: dict[_Key, Returning] = await self._db.read(read, urgent=True)
        return found

    async def _read_last_seqs(self, keys: list[_Key]) -> dict[_Key, int]:
        def read(conn: Connection) -> dict[_Key, int]:
            found: dict[_Key, int] = {}
            for store_id, ids in _by_store(keys).items():
                for conversation_id, seq in conversation_store.find_last_seqs(
                    conn, store_id, ids
                ).items():
                    found[(store_id, conversation_id)] = seq
            return found

        found: dict[_Key, int] = await self._db.read(read, urgent=True)
        return found


def _by_store(keys: list[_Key]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for store_id, item_id in keys:
        grouped[store_id].append(item_id)
    return {store_id: padded(ids) for store_id, ids in grouped.items()}


def padded(ids: list[Any]) -> list[Any]:
    """`ids` made as long as the next power of two by repeating the last one.

    `IN (…)` is rendered with one placeholder per item, so every length is a statement
    of its own, prepared again on each pooled PostgreSQL connection; batches of every
    length from 1 to 500 pushed the chat's statements out of the connections' cache.
    Padded, a query shape has ten lengths at most.
    """
    size = 1 << max(0, len(ids) - 1).bit_length()
    return ids + [ids[-1]] * (size - len(ids)) if ids else ids


__all__ = ["HelloBatch", "Returning"]
