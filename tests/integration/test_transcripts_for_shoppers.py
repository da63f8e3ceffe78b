"""A voice note's transcript reaches the shopper's widget only when the store wants it
(`speech.show_transcript_to_shopper`), and then only its words: over a real server, the
voice note spoken by espeak-ng, the store's speech provider a small test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from portside.services.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_STORE_KEY, do_seed_demo
from tests.integration.test_bot import SHIRT, agents_view, context
from tests.integration.test_bot_media import _endpoint, _send
from tests.support.clients import login, widget
from tests.support.factories import open_teams_around_the_clock, services_for
from tests.support.fake_media_ai import FakeMediaAi, fake_media_ai
from tests.support.server import LiveServer
from tests.support.voice import spoken_wav

SHARED = "attachment.transcript_shared"
TRANSCRIBED = "attachment.transcribed"


@pytest.fixture
async def admin(bot_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """The demo store's admin, over HTTP; its speech settings are turned off after."""
    async with services_for(bot_server.database_url, bot_server.data_dir) as svc:
        await do_seed_demo(svc, origins=[bot_server.origin])
        await open_teams_around_the_clock(svc, DEMO_STORE_KEY)
    http = await login(bot_server.base_url, DEMO_AGENTS[0][0], DEMO_PASSWORD)
    yield http
    off = await http.put(
        "/api/v1/settings/speech", json={"enabled": False, "show_transcript_to_shopper": False}
    )
    await http.aclose()
    assert off.status_code == 200, off.text


@pytest.fixture
async def fake() -> AsyncIterator[FakeMediaAi]:
    async with fake_media_ai() as endpoint:
        yield endpoint


def _types(frames: list[dict[str, Any]]) -> list[str]:
    return [f["event"]["type"] for f in frames if f["type"] == "event"]


@pytest.mark.parametrize("shown", [False, True], ids=["agents-only", "shown-to-shopper"])
async def test_the_shopper_reads_the_transcript_only_when_the_store_shows_it(
    bot_server: LiveServer, admin: httpx.AsyncClient, fake: FakeMediaAi, shown: bool
) -> None:
    # Through the API, as a store's admin turns it on.
    speech = _endpoint(fake, show_transcript_to_shopper=shown)
    configured = await admin.put("/api/v1/settings/speech", json=speech)
    assert configured.status_code == 200, configured.text
    assert configured.json()["show_transcript_to_shopper"] is shown
    said = "can I machine wash this shirt"
    fake.transcript, fake.language = said, "english"
    hello = {"context": context(SHIRT, "en-US")}
    async with widget(bot_server.ws_url, DEMO_STORE_KEY, bot_server.origin, hello=hello) as shopper:
        welcome = await shopper.expect("welcome")
        token = welcome["visitor"]["token"]
        # The transcript is written before the bot answers the words it heard.
        answer = await _send(bot_server, shopper, token, spoken_wav(said), "note.wav")
        live = await shopper.quiet()
    conversation_id, voice = answer["conversation_id"], answer["attachment"]["id"]

    # What the agents see does not change: the transcript with its language and provider.
    events = await agents_view(bot_server, conversation_id)
    transcribed = next(e for e in events if e["type"] == TRANSCRIBED)
    assert transcribed["data"]["text"] == said
    assert transcribed["data"]["language"] == "en"
    message = next(
        e for e in events if e["type"] == "message.created" and e["actor"]["type"] == "visitor"
    )

    # Replayed from the start on a new connection, as after a reload.
    async with widget(
        bot_server.ws_url,
        DEMO_STORE_KEY,
        bot_server.origin,
        hello={"token": token, "conversation_id": conversation_id, "last_seq": 0},
    ) as again:
        await again.expect("welcome")
        replayed = await again.quiet()

    for frames in (live, replayed):
        assert TRANSCRIBED not in _types(frames)
        shared = [
            f["event"] for f in frames if f["type"] == "event" and f["event"]["type"] == SHARED
        ]
        if not shown:
            assert shared == []
            continue
        assert len(shared) == 1
        # The words alone: no provider, no language, nothing for agents only.
        assert shared[0]["data"] == {
            "attachment_id": voice,
            "event_id": message["id"],
            "text": said,
        }
        assert shared[0]["actor"]["type"] == "system"
    assert [e["type"] for e in events].count(SHARED) == (1 if shown else 0)
