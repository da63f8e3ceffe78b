"""Events sent by `navigator.sendBeacon` as the shopper leaves a page (POST
/api/v1/track): what the widget could not send over its socket in time.

No session, no socket: the body names the store by its widget key and the shopper by
their visitor token, and the `Origin` header must be one of the store's allowed
origins, as for the widget's socket. A beacon's answer is never read by the page, so
everything is decided here and the route only says 204 or why not.
"""

from __future__ import annotations

import json

from portside.errors import InvalidRequest, PortsideError, RateLimited
from portside.services.context import Services
from portside.services.identity import get_token_visitor
from portside.services.tracking import TrackResult, do_track
from portside.storage import store_store

# A batch of 50 events of at most 4 KB each, and the envelope.
MAX_BEACON_BYTES = 256 * 1024


class UnknownStore(PortsideError):
    # The same code as the widget socket's refusal (realtime/protocol.py).
    code = "unknown_store"
    status = 404


class OriginNotAllowed(PortsideError):
    code = "origin_not_allowed"
    status = 403


async def do_track_beacon(
    svc: Services, *, body: bytes, origin: str | None, address: str
) -> TrackResult:
    """Check and store one beacon; raises what the route answers with."""
    retry = await svc.limiters.beacons.hit(f"ip:{address}")
    if retry:
        raise RateLimited(
            f"Too many beacons from this address; wait {retry:.0f} s.", retry_after=retry
        )
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body is one JSON object, as the widget sends it.") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("The body is one JSON object, as the widget sends it.")
    key = payload.get("store")
    if not isinstance(key, str) or not key:
        raise InvalidRequest("The body names the store: its widget key in `store`.")
    store = await svc.db.read(lambda conn: store_store.find_store_by_key(conn, key))
    if store is None:
        raise UnknownStore("No store has this widget key.")
    if origin not in store.allowed_origins:
        raise OriginNotAllowed(f"The store does not allow events from {origin}.")
    token = payload.get("token")
    if not isinstance(token, str) or not token:
        raise InvalidRequest("The body has the visitor's token in `token`.")
    visitor_id = await get_token_visitor(svc, token, store.id)
    return await do_track(
        svc,
        store_id=store.id,
        visitor_id=visitor_id,
        session_id=payload.get("session_id"),
        events=payload.get("events"),
    )
