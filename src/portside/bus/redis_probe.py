"""Is Redis reachable? A PING on a connection of its own, for /readyz (readiness.py).

Kept apart from the bus's connections: a probe must answer quickly whatever the bus is
doing (a publish riding over a blip retries; the reader may be reconnecting).
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

_TIMEOUT_S = 1.0


class RedisProbe:
    def __init__(self, url: str) -> None:
        self._client = Redis.from_url(
            url,
            client_name="portside-readiness",
            socket_connect_timeout=_TIMEOUT_S,
            socket_timeout=_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )

    async def ping(self) -> None:
        """Returns when Redis answered; raises when it did not."""
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
