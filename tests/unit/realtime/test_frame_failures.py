"""A frame whose handling fails is answered all the same: with its own error when it
has one, `unavailable` when the database cannot take it, `internal_error` otherwise.

Component tests over a temporary SQLite file, through sockets that record what they
are sent; the failures are real ones (a table gone from under the server).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portside.bus.memory import MemoryEventBus
from portside.clock import ManualClock
from portside.config import Settings
from portside.errors import ServiceUnavailable
from portside.realtime.connection import Connection, Disconnected
from portside.realtime.console_session import _ConsoleFrames
from portside.realtime.desk import Desk
from portside.realtime.hub import Hub
from portside.realtime.session import receive_loop
from portside.services.context import Services
from portside.services.conversations import do_send_visitor_message
from portside.services.identity import AgentIdentity
from portside.services.stores import do_create_store
from portside.services.visitors import do_identify_visitor
from portside.storage.database import Database
from portside.storage.migrate import upgrade_async


class ScriptedSocket:
    """A client that sends `incoming`, then leaves; keeps every frame it is sent."""

    def __init__(self, incoming: list[dict[str, Any]]) -> None:
        self.incoming = [json.dumps(m) for m in incoming]
        self.frames: list[dict[str, Any]] = []

    async def send_text(self, data: str) -> None:
        self.frames.append(json.loads(data))

    async def receive_text(self) -> str:
        if not self.incoming:
            raise Disconnected
        return self.incoming.pop(0)

    async def close(self, code: int, reason: str = "") -> None:
        pass


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings.from_env({"PORTSIDE_DATA_DIR": str(tmp_path)}).with_secret()
    await upgrade_async(settings.effective_database_url)
    db = Database(settings.effective_database_url, readers=2)
    try:
        yield Services(settings=settings, db=db, bus=MemoryEventBus(), clock=ManualClock())
    finally:
        await db.close()


async def _serve(svc: Services, socket: ScriptedSocket, handle: Any) -> None:
    conn = Connection(socket, svc, store_id=1, address="10.0.0.2", agent_id=7)
    conn.start()
    await receive_loop(socket, conn, svc, handle)
    conn.close_soon(1000, "test over")
    await conn.stop()


async def test_an_unexpected_failure_is_answered_with_internal_error_and_the_loop_goes_on(
    svc: Services,
) -> None:
    handled: list[int] = []

    async def handle(message: dict[str, Any]) -> None:
        if message["ref"] == 1:
            raise KeyError("a bug of ours")
        if message["ref"] == 2:
            raise ServiceUnavailable("The database is unreachable.", retry_after=2.0)
        handled.append(message["ref"])

    socket = ScriptedSocket([{"type": "typing", "state": True, "ref": n} for n in (1, 2, 3)])
    await _serve(svc, socket, handle)
    assert [(f["type"], f.get("code"), f.get("ref")) for f in socket.frames] == [
        ("error", "internal_error", 1),
        ("error", "unavailable", 2),
    ]
    assert socket.frames[1]["retry_after"] == 2.0
    assert handled == [3]


async def test_a_console_send_that_fails_below_us_gets_an_error_not_silence(
    svc: Services,
) -> None:
    store = await do_create_store(svc, name="Linen & Co.", allowed_origins=["https://a.example"])
    agent = AgentIdentity(7, store["id"], "Mei", "mei@shop.example", "agent", "csrf")
    shopper = await do_identify_visitor(
        svc, store_id=store["id"], token=None, context={}, address="10.0.0.1", user_agent=None
    )
    sent = await do_send_visitor_message(
        svc, store_id=store["id"], visitor_id=shopper.visitor_id, client_id="v-1", text="Hello?"
    )
    conversation_id = sent.event.conversation_id
    # The send runs in a task of its own (sends to several conversations go side by
    # side); a failure there used to end with the task, and the console waited for ever.
    await svc.db.write(lambda conn: conn.execute(text("DROP TABLE events")))
    socket = ScriptedSocket([])
    conn = Connection(socket, svc, store_id=store["id"], address="10.0.0.2", agent_id=7)
    conn.start()
    frames = _ConsoleFrames(svc, conn, agent, Desk(svc, Hub(svc)))
    await frames.handle(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "c-1",
            "text": "Hi",
            "ref": 9,
        }
    )
    await frames.drain()
    conn.close_soon(1000, "test over")
    await conn.stop()
    assert [(f["type"], f.get("code"), f.get("ref")) for f in socket.frames] == [
        ("error", "internal_error", 9)
    ]
