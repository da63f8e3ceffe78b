"""What every use case needs, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portside.clock import Clock
from portside.config import Settings
from portside.domain.conversations import Event, Standing
from portside.domain.ports import EventBus, FileStore, MediaProcessor, Translators
from portside.domain.ratelimit import SlidingWindowLimiter
from portside.node_metrics import NodeMetrics
from portside.services.opening import OpeningHoursCache
from portside.storage.database import Database


def store_topic(store_id: int) -> str:
    return f"store:{store_id}"


@dataclass
class Limiters:
    messages: SlidingWindowLimiter
    agent_messages: SlidingWindowLimiter
    new_visitors: SlidingWindowLimiter
    logins: SlidingWindowLimiter
    logins_by_address: SlidingWindowLimiter
    inbound_emails: SlidingWindowLimiter
    webhooks: SlidingWindowLimiter
    track_events: SlidingWindowLimiter
    beacons: SlidingWindowLimiter
    uploads: SlidingWindowLimiter
    uploads_by_address: SlidingWindowLimiter


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
    limiters: Limiters = field(init=False)
    # Teams' business hours, kept per store for a short time (services/opening.py).
    opening_hours: OpeningHoursCache = field(init=False)

    def __post_init__(self) -> None:
        self.opening_hours = OpeningHoursCache(self.clock)
        limits = self.settings.limits
        self.limiters = Limiters(
            messages=SlidingWindowLimiter(self.clock, limit=limits.messages_per_10s, window_s=10),
            agent_messages=SlidingWindowLimiter(
                self.clock, limit=limits.agent_messages_per_10s, window_s=10
            ),
            new_visitors=SlidingWindowLimiter(
                self.clock, limit=limits.new_visitors_per_minute_per_ip, window_s=60
            ),
            logins=SlidingWindowLimiter(self.clock, limit=limits.logins_per_minute, window_s=60),
            # An office of agents behind one address must still be able to log in.
            logins_by_address=SlidingWindowLimiter(
                self.clock, limit=limits.logins_per_minute * 10, window_s=60
            ),
            inbound_emails=SlidingWindowLimiter(
                self.clock, limit=limits.inbound_emails_per_minute, window_s=60
            ),
            webhooks=SlidingWindowLimiter(
                self.clock, limit=limits.webhooks_per_minute_per_ip, window_s=60
            ),
            track_events=SlidingWindowLimiter(
                self.clock, limit=limits.track_events_per_10s, window_s=10
            ),
            beacons=SlidingWindowLimiter(
                self.clock, limit=limits.beacons_per_minute_per_ip, window_s=60
            ),
            uploads=SlidingWindowLimiter(self.clock, limit=limits.uploads_per_minute, window_s=60),
            uploads_by_address=SlidingWindowLimiter(
                self.clock, limit=limits.uploads_per_minute_per_ip, window_s=60
            ),
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
