"""Rate-limit windows all the nodes count in, in the Redis their bus uses.

Each key is a sorted set of its hits (`portside:<db>:rl:<limit name>:<key>`), scored by
Redis's own clock in milliseconds, so nodes whose clocks differ still agree. One Lua
script per hit drops the hits older than the window, counts the rest and adds the new
ones or says how long to wait: the same rules as the in-memory SlidingWindowLimiter,
atomic whichever node the hit comes to. A key expires a window after its last hit.

Its own connections, with short timeouts and no retries: a hit must not wait on a Redis
that is away (services/rate_limits.py then counts on the node alone).
"""

from __future__ import annotations

import itertools
import secrets

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.connection import parse_url

KEY_PREFIX = "portside:"
_TIMEOUT_S = 0.5

# KEYS[1]: the window. ARGV: limit, window in ms, count, a member prefix unique to the
# call. Returns 0, or the milliseconds until the hits would be allowed.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if count > limit then
  return window
end
local over = redis.call('ZCARD', KEYS[1]) + count - limit
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], over - 1, over - 1, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
for i = 1, count do
  redis.call('ZADD', KEYS[1], now, ARGV[4] .. i)
end
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


def key_prefix(url: str) -> str:
    """`portside:<db>:rl:`, like the bus's channels (deployments sharing one Redis on
    different databases keep apart, and an operator sees whose keys these are)."""
    db = parse_url(url).get("db", 0)  # type: ignore[no-untyped-call]
    return f"{KEY_PREFIX}{db}:rl:"


class RedisWindows:
    """SharedWindows over Redis (domain/ratelimit.py)."""

    def __init__(self, url: str) -> None:
        self._client = Redis.from_url(
            url,
            client_name="portside-limits",
            socket_connect_timeout=_TIMEOUT_S,
            socket_timeout=_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self._script = self._client.register_script(_HIT)
        self._prefix = key_prefix(url)
        # Members must differ between hits in the same millisecond, on any node.
        self._node = secrets.token_hex(6)
        self._calls = itertools.count()

    async def hit(self, key: str, *, limit: int, window_s: float, count: int = 1) -> float:
        member = f"{self._node}:{next(self._calls)}:"
        waited = await self._script(
            keys=[self._prefix + key],
            args=[limit, max(1, round(window_s * 1000)), count, member],
        )
        return int(waited) / 1000

    async def close(self) -> None:
        await self._client.aclose()
