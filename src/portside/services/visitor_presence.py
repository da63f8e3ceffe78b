"""Whether a shopper is online (has a widget open) on any node.

`visitors.online_until` says it: the node holding a widget of the shopper's renews it
(realtime/online.py: at connect, then every few seconds, ONLINE_TTL_S ahead), so a shopper
whose node died is offline within ONLINE_TTL_S. When their last widget on a node closes,
that node ends it at once, unless another node renewed it later than it did; a node that
still has a widget and renewed it earlier hears of the end and renews again at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from portside.storage import presence_store

if TYPE_CHECKING:  # the services' context holds hello_batch.py, which renews with this
    from portside.services.context import Services

ONLINE_TTL_S = 30
# Renewed this often by the node holding the widget.
RENEW_S = 10.0
# A returning widget's hello writes nothing when its shopper's online state, written by
# another node (one that died, say), lasts this much longer than this node's next
# renewal can be away (realtime/online.py renews the widget within RENEW_S).
RENEW_MARGIN_S = 2.0
# Where the node that ended a shopper's online state says so, for the others.
LEFT_TOPIC = "presence:visitor-left"


def online_until(svc: Services) -> datetime:
    """The online_until a node writes now for the shoppers it holds."""
    return svc.clock.now() + timedelta(seconds=ONLINE_TTL_S)


def lasts_until_renewed(svc: Services, until: datetime | None) -> bool:
    """Whether an online state written until `until` is still on when this node's next
    round of renewals comes: a connecting widget then need not write it."""
    margin = timedelta(seconds=RENEW_S + RENEW_MARGIN_S)
    return until is not None and until >= svc.clock.now() + margin


async def do_renew_online(svc: Services, visitor_ids: list[int]) -> datetime | None:
    """Renew the given shoppers' online state, in statements of at most RENEW_CHUNK rows
    (each its own short transaction); the value written, None if there were none."""
    if not visitor_ids:
        return None
    now = svc.clock.now()
    until = now + timedelta(seconds=ONLINE_TTL_S)
    step = presence_store.RENEW_CHUNK
    for start in range(0, len(visitor_ids), step):
        chunk = visitor_ids[start : start + step]
        await svc.db.write(
            partial(presence_store.renew_visitors_online, ids=chunk, until=until, now=now)
        )
    return until


async def do_end_online_many(
    svc: Services, ends: list[tuple[int, datetime]]
) -> dict[tuple[int, datetime], bool]:
    """The shoppers' last widgets on this node closed: each (visitor_id, written) is
    offline now, unless a node renewed them later than this one did (`written`, the
    latest it wrote). One transaction for them all: widgets closing by the thousand (a
    load balancer restarted, a network blip) cost one per batch, not one each. Which
    of them ended."""
    now = svc.clock.now()

    def end(conn: Any) -> dict[tuple[int, datetime], bool]:
        return {
            (visitor_id, written): presence_store.end_visitor_online(
                conn, visitor_id, written=written, now=now
            )
            for visitor_id, written in ends
        }

    ended: dict[tuple[int, datetime], bool] = await svc.db.write(end)
    return ended


async def is_online(svc: Services, store_id: int, visitor_id: int) -> bool:
    """Whether the shopper has a widget open on some node (as last renewed)."""
    until = await svc.db.read(
        lambda conn: presence_store.find_visitor_online_until(conn, store_id, visitor_id)
    )
    return until is not None and until > svc.clock.now()


def online_from_row(row: object, now: datetime) -> bool:
    """Whether a visitors row read for other reasons says the shopper is online."""
    until = getattr(row, "online_until", None)
    return until is not None and until > now
