"""GET /metrics over a real server: the counts move by exactly what clients did, and
only those allowed read them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from portside.bus.redis import RedisEventBus
from tests.conftest import BACKENDS
from tests.integration.test_bus_contract import REDIS_URL, needs_redis
from tests.support.clients import client_id, console, login, widget
from tests.support.factories import make_store, open_teams_around_the_clock, services_for
from tests.support.server import POSTGRES_URL, LiveServer, reset_postgres

TOKEN = f"metrics-{uuid.uuid4().hex}"
BEARER = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module", params=BACKENDS)
def metrics_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of this module alone, with the AI agent and a metrics token: nothing
    else moves its counts."""
    data_dir = tmp_path_factory.mktemp(f"metrics-{request.param}")
    if request.param == "postgres":
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{data_dir / 'portside.db'}"
    live = LiveServer(
        data_dir=data_dir,
        database_url=url,
        env={"PORTSIDE_METRICS_TOKEN": TOKEN, "PORTSIDE_LOGINS_PER_MINUTE": "1000"},
    )
    live.start()
    yield live
    live.stop()


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    """The sum over every label of `name`."""
    return sum(value for (sample, _), value in samples.items() if sample == name)


async def scrape_until(
    http: httpx.AsyncClient, done: Callable[[Samples], bool], timeout: float = 15
) -> Samples:
    """Scrape until `done` holds: a count moves when the work behind it finishes (the
    bot's reply, a socket's close), a moment after the client has seen its effect."""
    async with asyncio.timeout(timeout):
        while True:
            samples = await scrape(http)
            if done(samples):
                return samples
            await asyncio.sleep(0.05)


@pytest.fixture
async def http(metrics_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=metrics_server.base_url, timeout=10) as client:
        yield client


async def test_counts_move_by_exactly_what_clients_did(
    metrics_server: LiveServer, http: httpx.AsyncClient
) -> None:
    async with services_for(metrics_server.database_url, metrics_server.data_dir) as svc:
        store = await make_store(svc, origin=metrics_server.origin, agents=1)
        await open_teams_around_the_clock(svc, store.widget_key)
    agent = store.agents[0]
    before = await scrape(http)

    def moved(after: Samples, name: str, **labels: str) -> float:
        return get(after, name, **labels) - get(before, name, **labels)

    async with widget(metrics_server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        # A message the bot answers.
        await shopper.send(type="message.send", client_id=client_id(), text="hi there!")
        await shopper.expect("ack")
        await shopper.expect(
            "event",
            timeout=15,
            where=lambda f: (
                f["event"]["type"] == "message.created" and f["event"]["actor"]["type"] == "bot"
            ),
        )
        # One too long: refused with an error frame, never stored.
        await shopper.send(type="message.send", ref="long", client_id=client_id(), text="x" * 4001)
        refused = await shopper.expect("error", where=lambda f: f.get("ref") == "long")
        assert refused["code"] == "message_too_long"
        # "Talk to a person", with nobody online: the conversation waits in the queue.
        await shopper.send(type="person.request")
        queued = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
        )
        conversation_id = queued["event"]["conversation_id"]

        during = await scrape_until(
            http, lambda s: moved(s, "portside_bot_reply_seconds_count") >= 1
        )
        assert moved(during, "portside_connections", kind="widget") == 1
        assert moved(during, "portside_connections", kind="console") == 0
        assert moved(during, "portside_queue_conversations") == 1
        assert moved(during, "portside_handoffs_total", reason="asked_for_person") == 1
        assert moved(during, "portside_messages_total", author="visitor") == 1
        assert moved(during, "portside_messages_total", author="bot") == 1
        assert moved(during, "portside_bot_reply_seconds_count") == 1
        # Every reply lands in a bucket of at most 5 s (a cold model is well inside).
        assert moved(during, "portside_bot_reply_seconds_bucket", le="5.0") == 1
        assert moved(during, "portside_errors_total", kind="protocol", code="message_too_long") == 1

        # An agent opens the console and answers: the conversation leaves the queue.
        agent_http = await login(metrics_server.base_url, agent["email"], agent["password"])
        async with (
            contextlib.aclosing(agent_http),
            console(metrics_server.ws_url, agent_http) as desk,
        ):
            await desk.expect("welcome")
            # The only agent online: routing gives them the waiting conversation as their
            # console opens (a reply sent before that would race the routing: conflict).
            await desk.expect(
                "event",
                where=lambda f: (
                    f["event"]["type"] == "conversation.status_changed"
                    and f["event"]["data"]["to"] == "assigned"
                ),
            )
            await desk.send(
                type="message.send",
                ref="reply",
                conversation_id=conversation_id,
                client_id=client_id(),
                text="Hello, Mei here. How can I help?",
            )
            await desk.expect("ack", where=lambda f: f.get("ref") == "reply")
            await shopper.expect(
                "event",
                where=lambda f: (
                    f["event"]["type"] == "message.created"
                    and f["event"]["actor"]["type"] == "agent"
                ),
            )
            # And asks the API for a conversation that does not exist.
            missing = await agent_http.get("/api/v1/conversations/987654321")
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "not_found"

            after = await scrape(http)
            assert moved(after, "portside_connections", kind="console") == 1
            assert moved(after, "portside_connections", kind="widget") == 1
            assert moved(after, "portside_queue_conversations") == 0
            assert moved(after, "portside_messages_total", author="agent") == 1
            assert moved(after, "portside_errors_total", kind="http", code="not_found") == 1

    closed = await scrape_until(
        http,
        lambda s: (
            moved(s, "portside_connections", kind="widget") == 0
            and moved(s, "portside_connections", kind="console") == 0
        ),
    )
    # Nothing counted twice on the way: one of each, and no more handoffs or bot replies.
    assert moved(closed, "portside_messages_total", author="visitor") == 1
    assert moved(closed, "portside_messages_total", author="bot") == 1
    assert moved(closed, "portside_messages_total", author="agent") == 1
    assert moved(closed, "portside_bot_reply_seconds_count") == 1
    assert total(closed, "portside_handoffs_total") - total(before, "portside_handoffs_total") == 1
    # Every message went out on the bus as an event (and more events with them).
    assert moved(closed, "portside_events_published_total", type="message.created") == 3
    assert moved(closed, "portside_events_published_total", type="conversation.created") == 1
    assert moved(closed, "portside_bus_publish_failures_total") == 0
    # This node's process, too.
    assert get(closed, "process_resident_memory_bytes") > 0


async def test_a_token_is_required_when_one_is_set(
    metrics_server: LiveServer, http: httpx.AsyncClient
) -> None:
    before = await scrape(http)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        # From this very machine, too: with a token set, the address is not enough.
        response = await http.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "metrics_token_required"
    after = await scrape(http)
    code = "metrics_token_required"
    assert (
        get(after, "portside_errors_total", kind="http", code=code)
        - get(before, "portside_errors_total", kind="http", code=code)
        == 3
    )


async def test_without_a_token_this_machine_may_scrape(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    samples = parse(response.text)
    assert ("portside_queue_conversations", frozenset()) in samples
    assert ("portside_connections", frozenset({("kind", "widget")})) in samples


@needs_redis
@pytest.mark.redis
async def test_a_publish_redis_could_not_take_is_counted() -> None:
    counted: list[str] = []
    forwarder = _Forwarder(REDIS_URL)
    await forwarder.start()
    bus = RedisEventBus(
        forwarder.url,
        name=f"portside-test-{uuid.uuid4().hex}",
        on_publish_failed=lambda: counted.append("failed"),
    )
    try:
        await bus.start()
        await bus.publish(f"test-{uuid.uuid4().hex}", {"n": 1})
        assert counted == []
        await forwarder.stop()  # Redis is gone for this node
        await bus.publish(f"test-{uuid.uuid4().hex}", {"n": 2})
        assert counted == ["failed"]
    finally:
        await bus.close()
        await forwarder.stop()


class _Forwarder:
    """A TCP hop in front of Redis that can be taken away, as a network fault would."""

    def __init__(self, redis_url: str) -> None:
        target = urlsplit(redis_url)
        self._host, self._port = target.hostname or "127.0.0.1", target.port or 6379
        self._path = target.path
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}{self._path}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
        self._writers.update({writer, up_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
