"""One client's outbox: every event once, in seq order, with internal events hidden from shoppers.

A component test: a real `Services` over a temporary SQLite file (the connection reads
missing events from the log), driven through a socket that records what it is sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from portside.bus.memory import MemoryEventBus
from portside.clock import ManualClock
from portside.config import Settings
from portside.realtime.connection import MAX_FOLLOWING, Connection, Disconnected
from portside.realtime.protocol import Close, frame
from portside.services.context import Services, store_topic
from portside.services.conversations import do_send_agent_message, do_send_visitor_message
from portside.services.identity import AgentIdentity
from portside.services.stores import do_create_store
from portside.services.visitors import do_identify_visitor, do_update_context
from portside.storage.database import Database
from portside.storage.migrate import upgrade_async

_client_ids = (f"c-{n}" for n in itertools.count(1))


class RecordingSocket:
    """The client's end: keeps every frame sent; once closed, refuses to send like a real one.

    With `hold()` the client stops reading, so the server's writer waits in `send_text`.
    """

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self._reading = asyncio.Event()
        self._reading.set()

    def hold(self) -> None:
        self._reading.clear()

    def resume(self) -> None:
        self._reading.set()

    async def send_text(self, data: str) -> None:
        await self._reading.wait()
        if self.closed is not None:
            raise Disconnected
        self.frames.append(json.loads(data))

    async def receive_text(self) -> str:
        raise Disconnected

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)

    @property
    def events(self) -> list[tuple[int, str]]:
        """(seq, type) of each event frame, in the order sent."""
        return [
            (f["event"]["seq"], f["event"]["type"]) for f in self.frames if f["type"] == "event"
        ]


@dataclass
class Shop:
    """A store with shoppers, and every bus message its actions published, in order."""

    svc: Services
    store_id: int
    published: list[dict[str, Any]] = field(default_factory=list)

    async def new_visitor(self) -> int:
        session = await do_identify_visitor(
            self.svc,
            store_id=self.store_id,
            token=None,
            context={},
            address="203.0.113.5",
            user_agent=None,
        )
        return session.visitor_id

    async def shopper_says(self, visitor_id: int, text: str = "Is this in stock?") -> int:
        """The shopper writes; returns the conversation id."""
        sent = await do_send_visitor_message(
            self.svc,
            store_id=self.store_id,
            visitor_id=visitor_id,
            client_id=next(_client_ids),
            text=text,
        )
        return sent.event.conversation_id

    async def agent_notes(self, conversation_id: int) -> None:
        agent = AgentIdentity(7, self.store_id, "Mei", "mei@shop.example", "agent", "csrf")
        await do_send_agent_message(
            self.svc,
            agent,
            conversation_id=conversation_id,
            client_id=next(_client_ids),
            text="Regular customer, be nice.",
            note=True,
        )

    async def shopper_browses(self, visitor_id: int, url: str) -> None:
        await do_update_context(
            self.svc, store_id=self.store_id, visitor_id=visitor_id, context={"page_url": url}
        )

    def live(self, conversation_id: int, seq: int) -> dict[str, Any]:
        """The bus message that carried this event."""
        [message] = [
            m
            for m in self.published
            if m["event"]["conversation_id"] == conversation_id and m["event"]["seq"] == seq
        ]
        return message

    def widget(self, visitor_id: int, socket: RecordingSocket) -> Connection:
        conn = Connection(
            socket, self.svc, store_id=self.store_id, address="203.0.113.5", visitor_id=visitor_id
        )
        conn.start()
        return conn

    def console(self, socket: RecordingSocket, store_id: int | None = None) -> Connection:
        conn = Connection(
            socket, self.svc, store_id=store_id or self.store_id, address="10.0.0.2", agent_id=7
        )
        conn.start()
        return conn


async def _make_services(data_dir: Path, **env: str) -> Services:
    settings = Settings.from_env({"PORTSIDE_DATA_DIR": str(data_dir), **env}).with_secret()
    await upgrade_async(settings.effective_database_url)
    db = Database(settings.effective_database_url, readers=2)
    return Services(settings=settings, db=db, bus=MemoryEventBus(), clock=ManualClock())


async def _open_shop(svc: Services, name: str = "Linen & Co.") -> Shop:
    store = await do_create_store(svc, name=name, allowed_origins=["https://shop.example"])
    shop = Shop(svc, store["id"])
    svc.bus.subscribe(store_topic(shop.store_id), lambda _t, m: shop.published.append(m))
    return shop


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    svc = await _make_services(tmp_path)
    try:
        yield await _open_shop(svc)
    finally:
        await svc.db.close()


async def _drain(conn: Connection) -> None:
    """Let the writer send everything queued so far, then stop it."""
    conn.close_soon(1000, "test over")
    await conn.stop()


async def test_event_at_or_below_the_seen_seq_is_dropped(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor, "Hello")  # seq 1 created, 2 message
    await shop.shopper_says(visitor, "Anyone there?")  # seq 3
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)
    conn.seen[cid] = 2  # the widget resumed having applied up to seq 2

    for seq in (1, 2, 3, 3, 2):
        conn.deliver(shop.live(cid, seq))
    await _drain(conn)

    assert socket.events == [(3, "message.created")]
    assert conn.seen[cid] == 3


async def test_event_ahead_of_missing_ones_is_preceded_by_them_from_the_log(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor, "one")  # seq 1, 2
    await shop.shopper_says(visitor, "two")  # seq 3
    await shop.shopper_says(visitor, "three")  # seq 4
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)

    # Seq 4 overtakes the others (two writers published out of commit order); the late
    # ones then arrive too.
    for seq in (4, 2, 1, 3, 4):
        conn.deliver(shop.live(cid, seq))
    await _drain(conn)

    assert [seq for seq, _ in socket.events] == [1, 2, 3, 4]
    texts = [f["event"]["data"].get("text") for f in socket.frames if f["type"] == "event"]
    assert texts == [None, "one", "two", "three"]


async def test_console_fills_a_gap_including_internal_notes(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)  # seq 1, 2
    await shop.agent_notes(cid)  # seq 3
    await shop.shopper_says(visitor, "Hello?")  # seq 4
    socket = RecordingSocket()
    conn = shop.console(socket)
    conn.seen[cid] = 1
    conn.follow(cid)

    conn.deliver(shop.live(cid, 4))
    await _drain(conn)

    assert socket.events == [(2, "message.created"), (3, "note.created"), (4, "message.created")]


async def test_console_follows_a_conversation_it_has_not_loaded_from_its_next_event(
    shop: Shop,
) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)  # seq 1, 2
    await shop.shopper_says(visitor)  # seq 3
    await shop.shopper_says(visitor)  # seq 4
    socket = RecordingSocket()
    conn = shop.console(socket)
    conn.follow(cid)

    conn.deliver(shop.live(cid, 2))  # history before this comes over HTTP, not here
    conn.deliver(shop.live(cid, 4))  # ...but a gap after it is filled
    await _drain(conn)

    assert [seq for seq, _ in socket.events] == [2, 3, 4]


async def test_console_does_not_fill_gaps_of_a_conversation_it_does_not_follow(
    shop: Shop,
) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)  # seq 1, 2
    await shop.shopper_says(visitor)  # seq 3
    await shop.shopper_says(visitor)  # seq 4
    socket = RecordingSocket()
    conn = shop.console(socket)

    # Assigned to its agent for a while, then elsewhere, then back: no transcript
    # is open, so nothing is read from the log; replays are still dropped.
    for seq in (2, 4, 4, 3):
        conn.deliver(shop.live(cid, seq))
    await _drain(conn)

    assert [seq for seq, _ in socket.events] == [2, 4]


async def test_a_console_follows_at_most_so_many_conversations(shop: Shop) -> None:
    conn = shop.console(RecordingSocket())
    for cid in range(1, MAX_FOLLOWING + 2):
        conn.follow(cid)
    conn.follow(2)  # followed again: now the most recent

    assert len(conn.following) == MAX_FOLLOWING
    assert 1 not in conn.following
    assert list(conn.following)[-1] == 2


async def test_widget_hides_internal_events_but_counts_them_as_seen(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)  # seq 1, 2
    await shop.agent_notes(cid)  # seq 3: note.created
    await shop.shopper_browses(visitor, "https://shop.example/cart")  # seq 4: context
    await shop.shopper_says(visitor, "Checking out now")  # seq 5
    assert [m["internal"] for m in shop.published[2:]] == [True, True, False]
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)
    conn.seen[cid] = 2

    conn.deliver(shop.live(cid, 3))
    conn.deliver(shop.live(cid, 4))
    await _drain(conn)

    assert socket.events == []
    assert conn.seen[cid] == 4

    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)
    conn.seen[cid] = 4
    conn.deliver(shop.live(cid, 5))
    await _drain(conn)
    assert socket.events == [(5, "message.created")]


async def test_widget_filling_a_gap_skips_internal_events(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)  # seq 1, 2
    await shop.agent_notes(cid)  # seq 3
    await shop.shopper_browses(visitor, "https://shop.example/cart")  # seq 4
    await shop.shopper_says(visitor, "Checking out now")  # seq 5
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)
    conn.seen[cid] = 2

    conn.deliver(shop.live(cid, 5))
    conn.deliver(shop.live(cid, 3))  # late, and internal anyway
    await _drain(conn)

    assert socket.events == [(5, "message.created")]
    assert conn.seen[cid] == 5


async def test_replay_sends_what_a_resuming_widget_missed_and_then_dedupes(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor, "one")  # seq 1, 2
    await shop.agent_notes(cid)  # seq 3
    await shop.shopper_says(visitor, "two")  # seq 4
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)
    conn.seen[cid] = 1

    conn.replay(cid)
    conn.deliver(shop.live(cid, 4))  # the live copy of a replayed event
    conn.send(frame("pong"))
    await _drain(conn)

    assert socket.events == [(2, "message.created"), (4, "message.created")]
    assert socket.frames[-1] == {"v": 1, "type": "pong"}
    assert conn.seen[cid] == 4


async def test_frames_go_out_in_the_order_they_were_queued_before_a_close(shop: Shop) -> None:
    socket = RecordingSocket()
    conn = shop.console(socket)
    conn.send(frame("ping"))
    conn.send(frame("pong"))
    conn.close_soon(Close.HEARTBEAT, "no pong")
    conn.send(frame("ping"))  # after the close: dropped
    await conn.stop()

    assert [f["type"] for f in socket.frames] == ["ping", "pong"]
    assert socket.closed == (Close.HEARTBEAT, "no pong")


async def test_a_client_that_cannot_keep_up_is_closed_with_1013(tmp_path: Path) -> None:
    svc = await _make_services(tmp_path, PORTSIDE_SEND_QUEUE_FRAMES="3")
    try:
        shop = await _open_shop(svc)
        socket = RecordingSocket()
        socket.hold()
        conn = shop.console(socket)
        conn.send(frame("ping", n=0))
        await asyncio.sleep(0)  # the writer takes it and waits on the client
        for n in range(1, 4):
            conn.send(frame("ping", n=n))  # fills the queue
        assert socket.closed is None

        conn.send(frame("ping", n=4))  # one too many
        for _ in range(3):
            await asyncio.sleep(0)

        assert socket.closed is not None
        assert socket.closed[0] == Close.OVERLOADED == 1013
        assert conn.closing
        socket.resume()
        await conn.stop()
        assert socket.frames == []  # the closed socket took nothing more
    finally:
        await svc.db.close()


async def test_sync_answers_the_visible_events_then_synced(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor, "one")  # seq 1, 2
    await shop.agent_notes(cid)  # seq 3
    await shop.shopper_says(visitor, "two")  # seq 4
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)

    conn.sync(cid, 1, ref="s1")
    conn.deliver(shop.live(cid, 4))  # already sent by the sync
    await _drain(conn)

    assert socket.events == [(2, "message.created"), (4, "message.created")]
    assert socket.frames[-1] == {
        "v": 1,
        "type": "synced",
        "conversation_id": cid,
        "last_seq": 4,
        "more": False,
        "ref": "s1",
    }
    assert conn.seen[cid] == 4


async def test_console_sync_includes_internal_events(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)  # seq 1, 2
    await shop.agent_notes(cid)  # seq 3
    socket = RecordingSocket()
    conn = shop.console(socket)

    conn.sync(cid, 0, ref=None)
    await _drain(conn)

    assert [seq for seq, _ in socket.events] == [1, 2, 3]
    assert "ref" not in socket.frames[-1]
    assert socket.frames[-1]["type"] == "synced"


async def test_sync_of_another_shoppers_conversation_is_not_found(shop: Shop) -> None:
    someone_else = await shop.new_visitor()
    their_cid = await shop.shopper_says(someone_else, "My address is ...")
    visitor = await shop.new_visitor()
    socket = RecordingSocket()
    conn = shop.widget(visitor, socket)

    conn.sync(their_cid, 0, ref=9)
    conn.send(frame("pong"))  # the connection carries on
    await _drain(conn)

    assert socket.events == []
    error, pong = socket.frames
    assert error["type"] == "error"
    assert error["code"] == "not_found"
    assert error["ref"] == 9
    assert pong == {"v": 1, "type": "pong"}
    assert their_cid not in conn.seen


async def test_console_sync_of_another_stores_conversation_is_not_found(shop: Shop) -> None:
    visitor = await shop.new_visitor()
    cid = await shop.shopper_says(visitor)
    other_store = await do_create_store(
        shop.svc, name="Other shop", allowed_origins=["https://other.example"]
    )
    socket = RecordingSocket()
    conn = shop.console(socket, store_id=other_store["id"])

    conn.sync(cid, 0, ref="x")
    conn.sync(10_000, 0, ref="y")
    await _drain(conn)

    assert [(f["type"], f.get("code"), f.get("ref")) for f in socket.frames] == [
        ("error", "not_found", "x"),
        ("error", "not_found", "y"),
    ]
