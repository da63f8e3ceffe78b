"""What every use case needs, built once by the composition root."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any

from portside.clock import Clock
from portside.config import Settings
from portside.domain.conversations import Event, Standing
from portside.domain.ports import EventBus, FileStore, MediaProcessor, Translators
from portside.domain.ratelimit import SharedWindows, SlidingWindowLimiter
from portside.node_metrics import NodeMetrics
from portside.services.hello_batch import HelloBatch
from portside.services.opening import OpeningHoursCache
from portside.services.rate_limits import SharedLimiter, SharedState
from portside.services.store_keys import StoreKeyCache
from portside.storage.database import Database


def store_topic(store_id: int) -> str:
    return f"store:{store_id}"


def new_node_id() -> str:
    """This node's name in the leases it holds: host, process and a random part (a
    restarted process with the same pid is another holder)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Limiters:
    """The limits on what clients may do. Those a stranger can run into from anywhere
    (logins, new visitors, uploads, beacons, webhooks, inbound emails) are counted by all
    the nodes together when they share Redis (services/rate_limits.py). The floods of one
    connected client (messages, tracked events) are this node's own: they guard the node
    serving the socket, on the path of every message, and cost no round trip."""

    messages: SlidingWindowLimiter
    agent_messages: SlidingWindowLimiter
    new_visitors: SharedLimiter
    logins: SharedLimiter
    logins_by_address: SharedLimiter
    inbound_emails: SharedLimiter
    webhooks: SharedLimiter
    track_events: SlidingWindowLimiter
    beacons: SharedLimiter
    uploads: SharedLimiter
    uploads_by_address: SharedLimiter


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    clock: Clock
    # Translation between agents and shoppers (None: this server has none).
    translators: Translators | None = None
    # What this node counts for its operators (/metrics); one per application.
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    # Attachments: where their bytes live and what decodes uploads (None: this
    # process takes no uploads, as in tools and tests that need none).
    files: FileStore | None = None
    media: MediaProcessor | None = None
    # Who this node is in the leases on jobs one node runs at a time
    # (services/leases.py); made once, with the node's Services.
    node_id: str = field(default_factory=new_node_id)
    # Where the nodes count their shared rate limits (None: each node alone).
    shared_windows: SharedWindows | None = None
    limiters: Limiters = field(init=False)
    # Teams' business hours, kept per store for a short time (services/opening.py).
    opening_hours: OpeningHoursCache = field(init=False)
    # Stores found by their widget key, kept a few seconds (services/store_keys.py).
    store_keys: StoreKeyCache = field(init=False)
    # Returning widgets' hellos, batched across a reconnect storm (services/hello_batch.py).
    hello_batch: HelloBatch = field(init=False)

    def __post_init__(self) -> None:
        self.opening_hours = OpeningHoursCache(self.clock)
        self.store_keys = StoreKeyCache(self.clock)
        self.hello_batch = HelloBatch(self)
        limits = self.settings.limits
        state = SharedState(self.shared_windows, self.clock)

        def shared(name: str, limit: int, window_s: float) -> SharedLimiter:
            local = SlidingWindowLimiter(self.clock, limit=limit, window_s=window_s)
            return SharedLimiter(name, local, state)

        self.limiters = Limiters(
            messages=SlidingWindowLimiter(self.clock, limit=limits.messages_per_10s, window_s=10),
            agent_messages=SlidingWindowLimiter(
                self.clock, limit=limits.agent_messages_per_10s, window_s=10
            ),
            new_visitors=shared("new-visitors", limits.new_visitors_per_minute_per_ip, 60),
            logins=shared("logins", limits.logins_per_minute, 60),
            # An office of agents behind one address must still be able to log in.
            logins_by_address=shared("logins-by-address", limits.logins_per_minute * 10, 60),
            inbound_emails=shared("inbound-emails", limits.inbound_emails_per_minute, 60),
            webhooks=shared("webhooks", limits.webhooks_per_minute_per_ip, 60),
            track_events=SlidingWindowLimiter(
                self.clock, limit=limits.track_events_per_10s, window_s=10
            ),
            beacons=shared("beacons", limits.beacons_per_minute_per_ip, 60),
            uploads=shared("uploads", limits.uploads_per_minute, 60),
            uploads_by_address=shared("uploads-by-address", limits.uploads_per_minute_per_ip, 60),
        )

    async def publish_events(self, events: list[Event], standing: Standing) -> None:
        """Publish committed events of one conversation, with where it stands after them.

        Never call before the transaction has committed.
        """
        for event in events:
            await self.bus.publish(store_topic(event.store_id), event_message(event, standing))
            self.metrics.event_published(event)

    async def publish_signal(self, store_id: int, message: dict[str, Any]) -> None:
        await self.bus.publish(store_topic(store_id), message)


def event_message(event: Event, standing: Standing) -> dict[str, Any]:
    return {
        "kind": "event",
        "visitor_id": event.visitor_id,
        "internal": event.internal,
        "status": standing.status.value,
        "assignee_id": standing.assignee_id,
        "event": event.to_wire(),
    }
