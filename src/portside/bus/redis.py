"""The Redis event bus: pub/sub between the nodes of a scaled-out deployment.

A publish reaches this node's handlers at once, straight from the call, and the other
nodes through Redis; a node skips its own messages when Redis echoes them back. So a
node keeps serving its own clients while Redis is away.

Each bus holds one pub/sub connection, whatever the number of topics and handlers: the
first local handler of a topic SUBSCRIBEs its channel, closing the last one UNSUBSCRIBEs
it, and one reader task hands every message to the local handlers in order.

Delivery between nodes is at most once. If the connection drops, the reader reconnects
with backoff and subscribes again, but whatever was published meanwhile is gone: Redis
pub/sub keeps nothing for absent subscribers. The database log is the truth: once the
link is back, the bus calls its `on_resume` callbacks (and tells the other nodes, which
may have missed this node's publishes) so that connections read what they missed by
`seq` (docs/bus.md).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from portside.domain.ports import BusHandler

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "portside:"
# Where a bus whose link came back tells the others: they may have missed its publishes.
RESUMED_TOPIC = "bus:resumed"


def channel_prefix(url: str) -> str:
    """`portside:<db>:`: pub/sub channels ignore Redis's database numbers, so two
    deployments sharing one Redis on different databases would hear each other."""
    db = parse_url(url).get("db", 0)  # type: ignore[no-untyped-call]
    return f"{CHANNEL_PREFIX}{db}:"


_FIRST_RETRY_S = 0.1
_MAX_RETRY_S = 5.0
# A quiet connection is PINGed after this long; one that stays silent as long again is
# dead (a half-open TCP connection would otherwise never tell us).
_IDLE_S = 15.0
_IDLE_TOKEN = b"portside-idle"
_CONNECT_TIMEOUT_S = 2.0
_SOCKET_TIMEOUT_S = 5.0


class _RedisSubscription:
    def __init__(self, bus: RedisEventBus, topic: str, handler: BusHandler) -> None:
        self._bus = bus
        self.topic = topic
        self.handler = handler
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._remove(self)


class RedisEventBus:
    """Publishes JSON on `portside:<db>:<topic>` channels and delivers to local handlers.

    Handlers must not block: they hand the message to a queue and return. `subscribe`
    takes effect in Redis a moment later; `await flush()` waits until it has.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "portside",
        on_publish_failed: Callable[[], None] | None = None,
    ) -> None:
        self._url = url
        self._prefix = channel_prefix(url)
        # Marks this bus's messages, which Redis echoes back to it.
        self._node = uuid.uuid4().hex[:16]
        self._name = name  # shown by CLIENT LIST, so operators can tell the nodes apart
        # Told of each publish that could not reach Redis (the operators' metrics count them).
        self._on_publish_failed = on_publish_failed
        self._subscriptions: dict[str, list[_RedisSubscription]] = {}
        self._publisher: Redis | None = None
        self._listener: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._serving: set[asyncio.Task[None]] = set()  # the reader's writer and reading
        self._closed = False
        # State of the current pub/sub connection, owned by the reader task.
        self._wake = asyncio.Event()  # topics changed or a flush is waiting
        self._channels: set[str] = set()  # channels sent to Redis on this connection
        self._flushes: list[asyncio.Future[None]] = []  # waiting for the next PING
        self._pings: dict[bytes, list[asyncio.Future[None]]] = {}  # sent, not answered
        self._tokens = itertools.count()
        # Whether the pub/sub connection is up: while it is not, publishes skip Redis
        # rather than each waiting for it.
        self._linked = False
        self._resume_callbacks: list[Callable[[], None]] = []
        self._resuming: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._publisher is not None:
            return
        common: dict[str, Any] = {
            "client_name": self._name,
            "socket_connect_timeout": _CONNECT_TIMEOUT_S,
            "socket_timeout": _SOCKET_TIMEOUT_S,
        }
        # A publish rides over a blip, but gives up within a few seconds in an outage.
        self._publisher = Redis.from_url(
            self._url, retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 2), **common
        )
        # The listener never retries by itself: redis-py would reconnect and resubscribe
        # behind our back. The reader task owns reconnection instead.
        self._listener = Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 0, supported_errors=()), **common
        )
        await self._publisher.ping()  # a wrong URL fails at start-up, not on first use
        self._linked = True
        self.subscribe(RESUMED_TOPIC, self._on_other_resumed)
        self._reader = asyncio.create_task(self._run(), name=f"{self._name} bus reader")

    async def close(self) -> None:
        self._closed = True
        for task in (self._reader, self._resuming):
            if task is not None:
                await _cancel(task, self._serving)
        self._reader = self._resuming = None
        for waiter in (*self._flushes, *itertools.chain(*self._pings.values())):
            if not waiter.done():
                waiter.set_result(None)
        self._flushes.clear()
        self._pings.clear()
        self._subscriptions.clear()
        for client in (self._publisher, self._listener):
            if client is not None:
                await client.aclose()

    async def publish(self, topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        if self._publisher is None:
            raise RuntimeError("RedisEventBus.publish() before start()")
        # Encoded before local handlers see it: they may annotate it (the hub caches a
        # frame's text in it), which is not for the wire.
        data = None if local else self._encode(message)
        self._dispatch(topic, message)
        if data is None:
            return
        if not self._linked:
            # Redis is away: the other nodes catch up from the log when it is back.
            self._publish_failed(topic, "no link to Redis")
            return
        try:
            await self._publisher.publish(self._prefix + topic, data)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            # Events are published after their commit: failing the caller now would
            # report a stored change as failed. Subscribers catch up from the log.
            self._publish_failed(topic, str(exc))

    def _encode(self, message: dict[str, Any]) -> str:
        envelope = {"node": self._node, "message": message}
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)

    def _publish_failed(self, topic: str, reason: str) -> None:
        log.warning("bus could not publish on %s: %s", topic, reason)
        if self._on_publish_failed is not None:
            self._on_publish_failed()

    def on_resume(self, callback: Callable[[], None]) -> None:
        self._resume_callbacks.append(callback)

    def _resumed(self) -> None:
        for callback in tuple(self._resume_callbacks):
            try:
                callback()
            except Exception:
                log.exception("bus resume callback failed")

    async def _resume(self) -> None:
        """The link is back: once our subscriptions are in effect again, catch up here
        and tell the other nodes, which may have missed what we published meanwhile."""
        await self.flush()
        self._resumed()
        assert self._publisher is not None
        try:  # not through publish(): this node has caught up already
            await self._publisher.publish(self._prefix + RESUMED_TOPIC, self._encode({}))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            self._publish_failed(RESUMED_TOPIC, str(exc))

    def _on_other_resumed(self, _topic: str, _message: dict[str, Any]) -> None:
        self._resumed()

    def subscribe(self, topic: str, handler: BusHandler) -> _RedisSubscription:
        subscription = _RedisSubscription(self, topic, handler)
        subscriptions = self._subscriptions.setdefault(topic, [])
        subscriptions.append(subscription)
        if len(subscriptions) == 1:
            self._wake.set()
        return subscription

    async def flush(self) -> None:
        """Wait until Redis has applied every subscribe and close made before the call.

        Redis answers a connection's commands in order, so the reply to a PING sent
        after the pending (UN)SUBSCRIBEs proves they are in effect. While Redis is
        unreachable this waits for the reconnection.
        """
        if self._reader is None or self._closed:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._flushes.append(waiter)
        self._wake.set()
        await waiter

    def _remove(self, subscription: _RedisSubscription) -> None:
        subscriptions = self._subscriptions.get(subscription.topic)
        if subscriptions and subscription in subscriptions:
            subscriptions.remove(subscription)
            if not subscriptions:
                del self._subscriptions[subscription.topic]
                self._wake.set()

    async def _run(self) -> None:
        """The reader task: one pub/sub connection at a time, reconnecting with backoff."""
        assert self._listener is not None
        loop = asyncio.get_running_loop()
        delay = _FIRST_RETRY_S
        lost = False
        while True:
            pubsub = self._listener.pubsub()
            started = loop.time()
            reason = "unknown error"
            try:
                await pubsub.connect()  # type: ignore[no-untyped-call]
                self._linked = True
                if lost:
                    log.info("bus reconnected to Redis")
                    lost = False
                    self._resuming = asyncio.create_task(self._resume())
                await self._serve(pubsub)
            except* (RedisError, OSError) as errors:
                reason = str(errors.exceptions[0]) or type(errors.exceptions[0]).__name__
            except* Exception:
                log.exception("bus reader failed")
                reason = "reader failed"
            finally:
                await pubsub.aclose()
                self._connection_lost()
            if loop.time() - started > _MAX_RETRY_S:
                delay = _FIRST_RETRY_S  # it was healthy a while: start the backoff afresh
            log.warning("bus lost Redis (%s); reconnecting in %.1f s", reason, delay)
            lost = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_S)

    async def _serve(self, pubsub: PubSub) -> None:
        self._wake.set()  # the writer subscribes every topic on the new connection
        async with asyncio.TaskGroup() as tasks:
            self._serving = {
                tasks.create_task(self._write(pubsub)),
                tasks.create_task(self._read(pubsub)),
            }

    def _connection_lost(self) -> None:
        self._linked = False
        self._channels = set()
        # The PINGs died with the connection: their flushes wait for the next one.
        for waiters in self._pings.values():
            self._flushes.extend(waiters)
        self._pings.clear()

    async def _write(self, pubsub: PubSub) -> None:
        """Bring the connection's channels in line with the local topics, then PING."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Take the wanted channels and the waiting flushes at the same instant:
            # the PING below then covers every change made before those flushes.
            wanted = {self._prefix + topic for topic in self._subscriptions}
            added, removed = wanted - self._channels, self._channels - wanted
            self._channels = wanted
            token = None
            if self._flushes:
                token = f"portside-flush-{next(self._tokens)}".encode()
                self._pings[token], self._flushes = self._flushes, []
            # Commands go to pubsub.execute_command rather than pubsub.subscribe, which
            # would also record the channels for redis-py's own resubscription.
            if added:
                await pubsub.execute_command("SUBSCRIBE", *sorted(added))
            if removed:
                await pubsub.execute_command("UNSUBSCRIBE", *sorted(removed))
            if token is not None:
                await pubsub.execute_command("PING", token)

    async def _read(self, pubsub: PubSub) -> None:
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=_IDLE_S)
            if message is None:
                if awaiting_pong:
                    raise RedisConnectionError(f"no answer from Redis in {2 * _IDLE_S:.0f} s")
                await pubsub.execute_command("PING", _IDLE_TOKEN)
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                self._deliver(message["channel"], message["data"])
            elif message["type"] == "pong":
                for waiter in self._pings.pop(message["data"], ()):
                    if not waiter.done():  # its caller may have given up
                        waiter.set_result(None)

    def _deliver(self, channel: bytes, data: bytes) -> None:
        topic = channel.decode().removeprefix(self._prefix)
        if topic not in self._subscriptions:
            return  # closed locally, UNSUBSCRIBE not yet applied
        try:
            envelope = json.loads(data)
            node, message = envelope["node"], envelope["message"]
        except (ValueError, TypeError, KeyError):
            log.warning("bus dropped a message on %s that is not a Portside envelope", topic)
            return
        if node != self._node:  # ours were delivered here when published
            self._dispatch(topic, message)

    def _dispatch(self, topic: str, message: dict[str, Any]) -> None:
        subscriptions = self._subscriptions.get(topic)
        if not subscriptions:
            return
        for subscription in tuple(subscriptions):
            if subscription.closed:  # closed by an earlier handler of this message
                continue
            try:
                subscription.handler(topic, message)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("bus handler failed on %s", topic)


async def _cancel(task: asyncio.Task[None], helpers: set[asyncio.Task[None]]) -> None:
    """Cancel `task` (and the tasks it waits on) until it has ended.

    Once is not always enough on Python 3.11: asyncio.wait_for, which redis-py's sends go
    through, swallows a cancel that lands as its send completes, and the writer then
    waits for work forever, and so does node shutdown (fixed in Python 3.12).
    """
    while not task.done():
        task.cancel()
        for helper in helpers:
            helper.cancel()
        await asyncio.wait([task], timeout=0.1)
