"""A node's short-lived copy of stores found by their widget key.

When a node dies, every widget it held reconnects to the others within a fraction of a
second (5,500 in 0.2 s in bench/cluster.py), and each hello began by reading its store's
row: thousands of identical reads of a row that almost never changes. Each node keeps a
store it found for `CACHE_S` instead (when that copy expires mid-storm, the hellos that
find it gone read it once, together: services/hello_batch.py). A change made on this
node (the store's settings, `do_update_store`, a settings section) forgets them at once;
a change made on another node is seen here within `CACHE_S`: a new allowed origin
admits its first widget, an origin taken away refuses new connections, and the
welcome's attachments settings are the new ones, at most that long after the change.
Store updates publish nothing on the bus, so there is nothing to listen for. A key with
no store is never kept: a store just created takes widgets at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portside.clock import Clock
from portside.services._expiring import ExpiringCache

if TYPE_CHECKING:  # the services' context holds this module's cache
    from portside.services.context import Services

# How long a node keeps a store found by its widget key before reading it again.
CACHE_S = 5.0
# Widget keys kept at most (those read longest ago go first).
CACHED_KEYS = 10_000


class StoreKeyCache(ExpiringCache[str, Any]):
    """Store rows by widget key, per node, for a short time."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, CACHE_S, CACHED_KEYS)

    def forget(self, store_id: int) -> None:
        """Drop the store `store_id`, whatever its key: it has just been changed."""
        self.forget_where(lambda row: row.id == store_id)


async def find_store_by_key_cached(svc: Services, widget_key: str) -> Any:
    """The store with this widget key (None if there is none), as it was at most
    `CACHE_S` ago: for the widget's hello, where a reconnect storm asks thousands of
    times at once."""
    store = svc.store_keys.get(widget_key)
    if store is None:
        store = await svc.hello_batch.store(widget_key)
        if store is not None:
            svc.store_keys.put(widget_key, store)
    return store
