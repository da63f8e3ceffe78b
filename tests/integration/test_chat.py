"""A shopper and an agent talk over real sockets to a real server."""

from __future__ import annotations

import asyncio

from tests.support.clients import client_id, console, login, widget
from tests.support.factories import StoreFixture
from tests.support.server import LiveServer

CONTEXT = {
    "url": "https://shop.example/products/linen-shirt",
    "title": "Linen shirt",
    "product": "linen-shirt",
    "language": "en-US",
    "timezone": "America/New_York",
}


async def test_shopper_message_reaches_console_and_reply_comes_back(
    server: LiveServer, store: StoreFixture
) -> None:
    agent = store.agents[0]
    http = await login(server.base_url, agent["email"], agent["password"])
    async with (
        console(server.ws_url, http) as desk,
        widget(
            server.ws_url, store.widget_key, store.origin, hello={"context": CONTEXT}
        ) as shopper,
    ):
        welcome = await desk.expect("welcome")
        assert welcome["agent"]["store_id"] == store.id
        hi = await shopper.expect("welcome")
        assert hi["conversation"] is None
        assert hi["store"]["name"] == store.name

        cid = client_id()
        await shopper.send(
            type="message.send", client_id=cid, text="  Can I machine-wash this?  ", ref=1
        )
        ack = await shopper.expect("ack")
        assert ack["ref"] == 1 and ack["client_id"] == cid and ack["duplicate"] is False
        conversation_id = ack["conversation_id"]

        # The conversation is with the bot: the console hears of it in its inbox...
        inbox = await desk.expect("inbox")
        # ...and reads the transcript when the agent opens it.
        await desk.send(type="follow", conversation_id=conversation_id)
        transcript = (await http.get(f"/api/v1/conversations/{conversation_id}/events")).json()
        created, message = transcript["events"]
        assert inbox["conversations"] == [
            {
                "id": conversation_id,
                "last_seq": 2,
                "updated_at": message["at"],
                "status": "bot",
                "assignee_id": None,
                "preview": "Can I machine-wash this?",
                "last_message_at": message["at"],
                "last_from": "visitor",
            }
        ]
        assert created["type"] == "conversation.created" and created["seq"] == 1
        assert message["type"] == "message.created"
        assert message["data"] == {"text": "Can I machine-wash this?", "client_id": cid}
        assert message["actor"]["type"] == "visitor"
        assert message["seq"] == ack["seq"] == 2
        shopper_events = await shopper.events(2)
        assert [e["seq"] for e in shopper_events] == [1, 2]

        await desk.send(
            type="message.send",
            conversation_id=conversation_id,
            client_id=client_id(),
            text="Yes, 40 °C on a gentle cycle.",
            ref="r",
        )
        await desk.expect("ack", where=lambda f: f.get("ref") == "r")
        # Followed, and now the agent's: every event reaches the console live.
        assert [e["seq"] for e in await desk.events(2)] == [3, 4]
        taken, reply = await shopper.events(2)
        assert taken["type"] == "conversation.status_changed"
        assert taken["data"]["to"] == "assigned"
        assert taken["data"]["assignee"]["id"] == agent["id"]
        assert reply["data"]["text"] == "Yes, 40 °C on a gentle cycle."
        assert reply["actor"] == {"type": "agent", "id": agent["id"], "name": agent["name"]}

        row = (await http.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert row["status"] == "assigned"
        assert row["visitor"]["country"] == "US"
        assert row["visitor"]["timezone"] == "America/New_York"
        assert row["visitor"]["product"] == "linen-shirt"
    await http.aclose()


async def test_internal_note_never_reaches_the_shopper(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="Hello")
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
        await shopper.events(2)

        note = await http.post(
            f"/api/v1/conversations/{conversation_id}/notes",
            json={"client_id": client_id(), "text": "VIP customer, be generous"},
        )
        assert note.status_code == 201
        reply = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": "Hi there!"},
        )
        assert reply.status_code == 201
        frames = await shopper.quiet(1.0)
    texts = [f["event"]["data"].get("text") for f in frames if f["type"] == "event"]
    assert "VIP customer, be generous" not in texts
    assert "Hi there!" in texts
    # The shopper's seqs skip the note's, and never go backwards.
    seqs = [f["event"]["seq"] for f in frames if f["type"] == "event"]
    assert seqs == sorted(seqs) and 3 not in seqs
    transcript = (await http.get(f"/api/v1/conversations/{conversation_id}/events")).json()
    assert [e["type"] for e in transcript["events"]] == [
        "conversation.created",
        "message.created",
        "note.created",
        "conversation.status_changed",
        "message.created",
    ]
    await http.aclose()


async def test_reconnecting_shopper_gets_missed_events_once_in_order(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        welcome = await shopper.expect("welcome")
        token = welcome["visitor"]["token"]
        await shopper.send(type="message.send", client_id=client_id(), text="Where is my order?")
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
        last_seq = max(e["seq"] for e in await shopper.events(2))

    for n in range(3):  # while the shopper is away
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_id": client_id(), "text": f"Update {n}"},
        )

    hello = {"token": token, "conversation_id": conversation_id, "last_seq": last_seq}
    async with widget(server.ws_url, store.widget_key, store.origin, hello=hello) as shopper:
        welcome = await shopper.expect("welcome")
        assert welcome["visitor"]["id"] is not None
        assert welcome["conversation"]["id"] == conversation_id
        frames = await shopper.quiet(1.0)
    events = [f["event"] for f in frames if f["type"] == "event"]
    assert [e["seq"] for e in events] == list(range(last_seq + 1, last_seq + 5))
    assert [e["data"].get("text") for e in events if e["type"] == "message.created"] == [
        "Update 0",
        "Update 1",
        "Update 2",
    ]
    await http.aclose()


async def test_same_visitor_token_finds_the_same_conversation(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        token = (await shopper.expect("welcome"))["visitor"]["token"]
        await shopper.send(type="message.send", client_id=client_id(), text="first visit")
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": token}
    ) as shopper:
        welcome = await shopper.expect("welcome")
        assert welcome["conversation"]["id"] == conversation_id
        # No resume point: the whole public transcript comes again.
        events = await shopper.events(2)
        assert [e["data"].get("text") for e in events][1] == "first visit"


async def test_retried_send_is_stored_once(server: LiveServer, store: StoreFixture) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with (
        console(server.ws_url, http) as desk,
        widget(server.ws_url, store.widget_key, store.origin) as shopper,
    ):
        await desk.expect("welcome")
        # The store's consoles hear the agent come online, this one too.
        came = await desk.expect("presence")
        assert (came["agent_id"], came["presence"]) == (store.agents[0]["id"], "online")
        await shopper.expect("welcome")
        cid = client_id()
        await shopper.send(type="message.send", client_id=cid, text="Is it in stock?")
        first = await shopper.expect("ack")
        await desk.send(type="follow", conversation_id=first["conversation_id"])
        await desk.expect("inbox")
        await shopper.send(type="message.send", client_id=cid, text="Is it in stock?")
        again = await shopper.expect("ack")
        assert again["duplicate"] is True
        assert (again["seq"], again["event_id"]) == (first["seq"], first["event_id"])
        frames = await desk.quiet(1.0)
        transcript = (
            await http.get(f"/api/v1/conversations/{first['conversation_id']}/events")
        ).json()
    assert [f["type"] for f in frames] == []  # nothing new, live or in the inbox
    assert [e["type"] for e in transcript["events"]].count("message.created") == 1
    await http.aclose()


async def test_concurrent_sends_get_gap_free_seqs(server: LiveServer, store: StoreFixture) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="hi")
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
        agents = [http] + [
            await login(server.base_url, a["email"], a["password"]) for a in store.agents[1:]
        ]
        posts = [
            agents[i % len(agents)].post(
                f"/api/v1/conversations/{conversation_id}/notes",
                json={"client_id": f"n-{i}", "text": f"note {i}"},
            )
            for i in range(20)
        ]
        responses = await asyncio.gather(*posts)
        assert all(r.status_code == 201 for r in responses)
    events = (await http.get(f"/api/v1/conversations/{conversation_id}/events")).json()["events"]
    assert [e["seq"] for e in events] == list(range(1, 23))
    for client in agents:
        await client.aclose()


async def test_console_resume_replays_what_it_missed(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="one")
        ack = await shopper.expect("ack")
        conversation_id = ack["conversation_id"]
        await shopper.send(type="message.send", client_id=client_id(), text="two")
        await shopper.expect("ack")
    async with console(server.ws_url, http, resume={str(conversation_id): 2}) as desk:
        await desk.expect("welcome")
        (event,) = await desk.events(1)
        assert (event["seq"], event["data"]["text"]) == (3, "two")
        assert not [f for f in await desk.quiet(0.5) if f["type"] == "event"]
    await http.aclose()


async def test_shopper_writing_again_reopens_a_resolved_conversation(
    server: LiveServer, store: StoreFixture
) -> None:
    http = await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text="thanks!")
        conversation_id = (await shopper.expect("ack"))["conversation_id"]
        resolved = await http.post(f"/api/v1/conversations/{conversation_id}/resolve")
        assert resolved.json()["conversation"]["status"] == "resolved"
        await shopper.send(type="message.send", client_id=client_id(), text="one more thing")
        ack = await shopper.expect("ack")
        assert ack["conversation_id"] == conversation_id
    row = (await http.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert row["status"] == "bot"
    assert row["preview"] == "one more thing"
    await http.aclose()


async def test_talk_to_a_person_puts_the_conversation_in_the_queue_once(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="person.request")
        created, queued = await shopper.events(2)
        assert created["type"] == "conversation.created"
        assert queued["type"] == "conversation.status_changed"
        assert queued["data"] == {
            "from": "bot",
            "to": "queued",
            "assignee": None,
            "reason": "asked_for_person",
        }
        assert queued["actor"]["type"] == "visitor"
        await shopper.send(type="person.request")  # pressed again: already queued
        assert [f for f in await shopper.quiet(0.5) if f["type"] == "event"] == []
