"""Which console hears what: every event of its agent's, queued and followed
conversations; a merged summary in an `inbox` frame of every other change."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.clients import WsClient, client_id, console, login, widget
from tests.support.factories import StoreFixture
from tests.support.server import LiveServer


def texts(frames: list[dict[str, Any]]) -> list[str]:
    return [
        f["event"]["data"]["text"]
        for f in frames
        if f["type"] == "event" and f["event"]["type"] == "message.created"
    ]


def inbox_rows(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for f in frames if f["type"] == "inbox" for row in f["conversations"]]


async def logged_in(server: LiveServer, store: StoreFixture) -> tuple[httpx.AsyncClient, ...]:
    return tuple(
        [await login(server.base_url, a["email"], a["password"]) for a in store.agents[:2]]
    )


async def say(shopper: WsClient, text: str) -> dict[str, Any]:
    await shopper.send(type="message.send", client_id=client_id(), text=text)
    return await shopper.expect("ack")


async def test_agents_hear_their_own_and_queued_conversations_and_summaries_of_the_rest(
    server: LiveServer, store: StoreFixture
) -> None:
    http_a, http_b = await logged_in(server, store)
    a_id = store.agents[0]["id"]
    async with (
        console(server.ws_url, http_a) as desk_a,
        console(server.ws_url, http_b) as desk_b,
        widget(server.ws_url, store.widget_key, store.origin) as shopper,
    ):
        await desk_a.expect("welcome")
        await desk_b.expect("welcome")
        await shopper.expect("welcome")

        # With the bot: a summary for everyone, no events.
        conversation_id = (await say(shopper, "is the linen shirt in stock?"))["conversation_id"]
        for desk in (desk_a, desk_b):
            frames = await desk.quiet(0.6)
            assert texts(frames) == []
            rows = inbox_rows(frames)
            assert {r["id"] for r in rows} == {conversation_id}
            assert (rows[-1]["status"], rows[-1]["last_from"]) == ("bot", "visitor")

        # Agent A answers and so takes it: A's console gets the whole conversation,
        # from its first event, then hears the next message; B hears its summary.
        reply = await http_a.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": "Yes, in all sizes."},
        )
        assert reply.status_code == 201
        await say(shopper, "great, and in blue?")
        frames_a, frames_b = await desk_a.quiet(0.6), await desk_b.quiet(0.6)
        assert texts(frames_a) == [
            "is the linen shirt in stock?",
            "Yes, in all sizes.",
            "great, and in blue?",
        ]
        seqs_a = [f["event"]["seq"] for f in frames_a if f["type"] == "event"]
        assert seqs_a == list(range(1, len(seqs_a) + 1))
        assert texts(frames_b) == []
        rows = inbox_rows(frames_b)
        assert rows[-1]["status"] == "assigned" and rows[-1]["assignee_id"] == a_id
        assert rows[-1]["preview"] == "great, and in blue?"
        # Who has it, with the name, from the change that assigned it.
        assert [r["assignee"]["name"] for r in rows if r.get("assignee")] == [
            store.agents[0]["name"]
        ]

        # Back in the queue while B is away, so nobody can be given it: everyone
        # hears it, so anyone can take it.
        await desk_b.send(type="presence.set", presence="away")
        assert (await desk_b.expect("presence.ack"))["presence"] == "away"
        handoff = await http_a.post(f"/api/v1/conversations/{conversation_id}/handoff")
        assert handoff.json()["conversation"]["status"] == "queued"
        await say(shopper, "hello? anyone?")
        for desk in (desk_a, desk_b):
            frames = await desk.quiet(0.6)
            assert texts(frames) == ["hello? anyone?"]

        # B comes back: the queue is routed to B (never back to A, who handed it on),
        # whose console gets the whole conversation, then what follows.
        await desk_b.send(type="presence.set", presence="online")
        await desk_b.expect("presence.ack")
        await say(shopper, "still there?")
        frames_a, frames_b = await desk_a.quiet(0.6), await desk_b.quiet(0.6)
        assert texts(frames_b) == [
            "is the linen shirt in stock?",
            "Yes, in all sizes.",
            "great, and in blue?",
            "hello? anyone?",
            "still there?",
        ]
        assert texts(frames_a) == []
        assert inbox_rows(frames_a)[-1]["assignee_id"] == store.agents[1]["id"]
    for http in (http_a, http_b):
        await http.aclose()


async def test_a_followed_conversation_streams_and_resumes_after_a_drop(
    server: LiveServer, store: StoreFixture
) -> None:
    http_a, http_b = await logged_in(server, store)
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        conversation_id = (await say(shopper, "first"))["conversation_id"]
        await http_a.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": "A here"},
        )
        async with console(server.ws_url, http_b) as desk_b:
            await desk_b.expect("welcome")
            await desk_b.send(type="follow", conversation_id=conversation_id)
            seen = (await say(shopper, "second"))["seq"]
            assert texts(await desk_b.quiet(0.6)) == ["second"]

        await say(shopper, "third, while B was away")
        resume = {str(conversation_id): seen}
        async with console(server.ws_url, http_b, resume=resume) as desk_b:
            await desk_b.expect("welcome")
            await say(shopper, "fourth")
            frames = await desk_b.quiet(0.6)
    # The missed one replayed, then the live one, each once and in order.
    assert texts(frames) == ["third, while B was away", "fourth"]
    seqs = [f["event"]["seq"] for f in frames if f["type"] == "event"]
    assert seqs == list(range(seen + 1, seen + 3))
    for http in (http_a, http_b):
        await http.aclose()


async def test_an_inbox_frame_carries_the_latest_state_of_each_conversation(
    server: LiveServer, store: StoreFixture
) -> None:
    (http_a, http_b) = await logged_in(server, store)
    async with (
        console(server.ws_url, http_b) as desk,
        widget(server.ws_url, store.widget_key, store.origin) as shopper,
    ):
        await desk.expect("welcome")
        await shopper.expect("welcome")
        last = {}
        for text in ("one", "two", "three"):
            last = await say(shopper, text)
        frames = await desk.quiet(0.8)
    rows = inbox_rows(frames)
    for frame in frames:
        if frame["type"] == "inbox":  # one row per conversation in a frame
            ids = [r["id"] for r in frame["conversations"]]
            assert len(ids) == len(set(ids))
    assert rows[-1]["last_seq"] == last["seq"] and rows[-1]["preview"] == "three"
    assert [r["last_seq"] for r in rows] == sorted(r["last_seq"] for r in rows)
    for http in (http_a, http_b):
        await http.aclose()
