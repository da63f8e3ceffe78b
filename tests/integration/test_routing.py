"""Routing over a real server: who gets a handed-off conversation, the queue the shopper
sees, taking, transferring and handing back, and an agent who drops off."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from portside.services.context import Services
from portside.services.stores import do_create_agent
from tests.support.clients import WsClient, client_id, console, login, widget
from tests.support.factories import PASSWORD, StoreFixture
from tests.support.server import LiveServer

Frame = dict[str, Any]


def assigned_to(frame: Frame) -> int | None:
    data = frame["event"]["data"]
    if frame["event"]["type"] != "conversation.status_changed" or data["to"] != "assigned":
        return None
    return int(data["assignee"]["id"])


def is_assignment(agent_id: int) -> Any:
    return lambda f: f["type"] == "event" and assigned_to(f) == agent_id


async def add_agent(
    svc: Services, store: StoreFixture, admin: httpx.AsyncClient, name: str, **profile: Any
) -> dict[str, Any]:
    agent = await do_create_agent(
        svc,
        store_id=store.id,
        email=f"{name.lower()}-{client_id()[-8:]}@store{store.id}.example",
        name=name,
        password=PASSWORD,
    )
    if profile:
        changed = await admin.patch(f"/api/v1/agents/{agent['id']}", json=profile)
        assert changed.status_code == 200, changed.text
    return {**agent, "password": PASSWORD}


@contextlib.asynccontextmanager
async def desk_of(server: LiveServer, person: dict[str, Any]) -> AsyncIterator[WsClient]:
    http = await login(server.base_url, person["email"], person["password"])
    async with console(server.ws_url, http) as desk:
        await desk.expect("welcome")
        desk.http = http  # type: ignore[attr-defined]
        yield desk
    await http.aclose()


@contextlib.asynccontextmanager
async def shopper_in(
    server: LiveServer, store: StoreFixture, language: str = "en"
) -> AsyncIterator[WsClient]:
    hello = {"context": {"language": language}}
    async with widget(server.ws_url, store.widget_key, store.origin, hello=hello) as shopper:
        await shopper.expect("welcome")
        yield shopper


async def ask_for_person(shopper: WsClient) -> int:
    await shopper.send(type="person.request")
    queued = await shopper.expect(
        "event", where=lambda f: f["event"]["type"] == "conversation.status_changed"
    )
    return int(queued["event"]["conversation_id"])


async def admin_of(server: LiveServer, store: StoreFixture) -> httpx.AsyncClient:
    return await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])


async def set_presence(desk: WsClient, presence: str) -> None:
    await desk.send(type="presence.set", presence=presence)
    assert (await desk.expect("presence.ack"))["presence"] == presence


async def test_a_german_shopper_is_routed_to_the_online_agent_who_speaks_german(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await admin_of(server, store)
    await admin.patch(f"/api/v1/agents/{store.agents[0]['id']}", json={"languages": ["en"]})
    lena = await add_agent(svc, store, admin, "Lena", languages=["de", "en"])
    wei = await add_agent(svc, store, admin, "Wei", languages=["zh"])
    async with (
        desk_of(server, store.agents[0]) as desk_admin,
        desk_of(server, lena) as desk_lena,
        desk_of(server, wei) as desk_wei,
        shopper_in(server, store, "de-DE") as shopper,
    ):
        conversation_id = await ask_for_person(shopper)
        got = await desk_lena.expect("event", where=is_assignment(lena["id"]))
        assert got["event"]["conversation_id"] == conversation_id
        assert got["event"]["data"]["reason"] == "routed"
        # The shopper sees who joined; the others hear only the inbox summary.
        joined = await shopper.expect("event", where=is_assignment(lena["id"]))
        assert joined["event"]["data"]["assignee"]["name"] == "Lena"
        for other in (desk_admin, desk_wei):
            frames = await other.quiet(0.5)
            assert [f for f in frames if f["type"] == "event"] == []
        agents = (await admin.get("/api/v1/agents")).json()["agents"]
        load = {a["id"]: (a["presence"], a["load"]) for a in agents}
        assert load[lena["id"]] == ("online", 1)
        assert load[wei["id"]] == ("online", 0)
    await admin.aclose()


async def test_a_full_desk_queues_shoppers_who_see_their_place_until_room_appears(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await admin_of(server, store)
    solo = store.agents[1]
    changed = await admin.patch(f"/api/v1/agents/{solo['id']}", json={"max_concurrent": 1})
    assert changed.json()["max_concurrent"] == 1
    async with (
        desk_of(server, solo) as desk,
        shopper_in(server, store) as first,
        shopper_in(server, store) as second,
        shopper_in(server, store) as third,
    ):
        await set_presence(desk, "online")
        # The admin never opens a console: only the solo agent can take anything.
        first_id = await ask_for_person(first)
        await desk.expect("event", where=is_assignment(solo["id"]))
        await ask_for_person(second)
        await ask_for_person(third)
        place_2 = await second.expect("queue")
        place_3 = await third.expect("queue")
        assert (place_2["position"], place_3["position"]) == (1, 2)
        # One agent online who could take them: an estimate, growing with the place.
        assert 0 < place_2["wait_s"] <= place_3["wait_s"]
        assert place_2["agents_online"] == 1

        resolved = await desk.http.post(f"/api/v1/conversations/{first_id}/resolve")  # type: ignore[attr-defined]
        assert resolved.status_code == 200
        await second.expect("event", where=is_assignment(solo["id"]), timeout=5)
        moved_up = await third.expect("queue", where=lambda f: f["position"] == 1, timeout=5)
        assert moved_up["wait_s"] is not None

        # Nobody online who could answer: the shopper is told so, not given a number.
        await set_presence(desk, "away")
        nobody = await third.expect("queue", where=lambda f: f["wait_s"] is None, timeout=15)
        assert nobody["agents_online"] == 0
    await admin.aclose()


async def test_two_agents_taking_one_queued_conversation_exactly_one_gets_it(
    server: LiveServer, store: StoreFixture
) -> None:
    async with (
        desk_of(server, store.agents[0]) as desk_a,
        desk_of(server, store.agents[1]) as desk_b,
        shopper_in(server, store) as shopper,
    ):
        for desk in (desk_a, desk_b):
            await set_presence(desk, "away")  # nobody is routed it: it waits
        conversation_id = await ask_for_person(shopper)
        path = f"/api/v1/conversations/{conversation_id}/take"
        answers = await asyncio.gather(
            desk_a.http.post(path),  # type: ignore[attr-defined]
            desk_b.http.post(path),  # type: ignore[attr-defined]
        )
        codes = sorted(r.status_code for r in answers)
        assert codes == [200, 409]
        winner = next(r for r in answers if r.status_code == 200).json()
        loser = next(r for r in answers if r.status_code == 409).json()
        assert loser["error"]["code"] == "conflict"
        assert winner["conversation"]["assignee"]["name"] in loser["error"]["message"]
        events = (
            await desk_a.http.get(f"/api/v1/conversations/{conversation_id}/events")  # type: ignore[attr-defined]
        ).json()["events"]
        assigned = [e for e in events if e["type"] == "conversation.status_changed"]
        assert [e["data"]["to"] for e in assigned] == ["queued", "assigned"]


async def test_transfer_to_a_team_and_hand_back_lose_nothing_the_shopper_writes(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await admin_of(server, store)
    team = await admin.post(
        "/api/v1/teams", json={"name": f"Returns {client_id()[-6:]}", "timezone": "UTC"}
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    returns = await add_agent(svc, store, admin, "Rosa", teams=[team_id])
    async with (
        desk_of(server, store.agents[1]) as desk_first,
        desk_of(server, returns) as desk_returns,
        shopper_in(server, store) as shopper,
    ):
        await set_presence(desk_returns, "away")
        conversation_id = await ask_for_person(shopper)
        await desk_first.expect("event", where=is_assignment(store.agents[1]["id"]))
        await set_presence(desk_returns, "online")

        # The shopper keeps writing while the agent transfers the conversation.
        texts = [f"message {i}" for i in range(8)]
        path = f"/api/v1/conversations/{conversation_id}/transfer"
        transfer = asyncio.create_task(
            desk_first.http.post(path, json={"team_id": team_id})  # type: ignore[attr-defined]
        )
        for text in texts:
            await shopper.send(type="message.send", client_id=client_id(), text=text)
        moved = await transfer
        assert moved.status_code == 200, moved.text
        assert moved.json()["conversation"]["assignee"]["id"] == returns["id"]
        acks = [await shopper.expect("ack") for _ in texts]
        assert all(not a["duplicate"] for a in acks)
        events = (
            await desk_returns.http.get(  # type: ignore[attr-defined]
                f"/api/v1/conversations/{conversation_id}/events"
            )
        ).json()["events"]
        said = [e["data"]["text"] for e in events if e["type"] == "message.created"]
        assert said == texts
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1))

        # A team without anyone free: the conversation waits in that team's queue.
        # The agent who has it hands it back to the bot.
        back = await desk_returns.http.post(  # type: ignore[attr-defined]
            f"/api/v1/conversations/{conversation_id}/handback"
        )
        assert back.json()["conversation"]["status"] == "bot"
        bad = await desk_first.http.post(path, json={"team_id": 999_999})  # type: ignore[attr-defined]
        assert bad.status_code == 404
    await admin.aclose()


async def test_an_agent_may_not_move_a_colleagues_conversation_but_a_supervisor_may(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await admin_of(server, store)
    boss = await add_agent(svc, store, admin, "Sam", role="supervisor")
    third = await add_agent(svc, store, admin, "Kim")
    async with (
        desk_of(server, store.agents[1]) as desk_owner,
        shopper_in(server, store) as shopper,
    ):
        conversation_id = await ask_for_person(shopper)
        await desk_owner.expect("event", where=is_assignment(store.agents[1]["id"]))
        kim = await login(server.base_url, third["email"], third["password"])
        base = f"/api/v1/conversations/{conversation_id}"
        refused = await kim.post(f"{base}/assign", json={"agent_id": third["id"]})
        assert refused.status_code == 403
        assert store.agents[1]["name"] in refused.json()["error"]["message"]
        taken = await kim.post(f"{base}/take")
        assert taken.status_code == 409
        sam = await login(server.base_url, boss["email"], boss["password"])
        moved = await sam.post(f"{base}/assign", json={"agent_id": third["id"]})
        assert moved.json()["conversation"]["assignee"]["id"] == third["id"]
        # Only admins change agents; an agent sets their own languages only.
        self_edit = await kim.patch(f"/api/v1/agents/{third['id']}", json={"languages": ["ko"]})
        assert self_edit.json()["languages"] == ["ko"]
        promote = await kim.patch(f"/api/v1/agents/{third['id']}", json={"role": "admin"})
        assert promote.status_code == 403
        for client in (kim, sam):
            await client.aclose()
    await admin.aclose()


async def test_agent_profile_errors_name_the_field(server: LiveServer, store: StoreFixture) -> None:
    admin = await admin_of(server, store)
    agent_id = store.agents[1]["id"]
    for body, field in (
        ({"languages": ["de", "xx-nonsense"]}, "languages[1]"),
        ({"languages": "de"}, "languages"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"teams": [424242]}, "teams[0]"),
        ({"role": "owner"}, "role"),
        ({"shoe_size": 42}, "shoe_size"),
    ):
        answer = await admin.patch(f"/api/v1/agents/{agent_id}", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["details"][0]["field"] == field
    last_admin = await admin.patch(
        f"/api/v1/agents/{store.agents[0]['id']}", json={"role": "agent"}
    )
    assert last_admin.status_code == 400
    assert "at least one admin" in last_admin.json()["error"]["message"]
    await admin.aclose()


async def test_presence_holds_across_tabs_and_ends_with_the_last_one(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await admin_of(server, store)
    person = store.agents[1]

    async def presence(settles_to: str | None = None) -> str:
        """The agent's presence; with `settles_to`, once the server has seen a console
        close (it learns of it a moment after the client does)."""
        for _ in range(50):
            agents = (await admin.get("/api/v1/agents")).json()["agents"]
            now = next(a["presence"] for a in agents if a["id"] == person["id"])
            if settles_to is None or now == settles_to:
                return now
            await asyncio.sleep(0.1)
        return now

    assert await presence() == "offline"
    async with desk_of(server, person) as tab_1:
        assert await presence() == "online"
        await set_presence(tab_1, "away")
        async with desk_of(server, person):
            # A second tab (or a reconnect) keeps what the agent chose.
            assert await presence() == "away"
        assert await presence() == "away"
    assert await presence(settles_to="offline") == "offline"
    await admin.aclose()


async def test_an_agent_who_drops_keeps_conversations_for_the_grace_then_they_move_on(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await admin_of(server, store)
    grace = await admin.put("/api/v1/settings/routing", json={"grace_s": 3})
    assert grace.status_code == 200, grace.text
    leaver, stayer = store.agents[1], store.agents[0]
    async with (
        desk_of(server, stayer) as desk_stayer,
        shopper_in(server, store) as shopper,
    ):
        await set_presence(desk_stayer, "away")
        async with desk_of(server, leaver) as desk_leaver:
            conversation_id = await ask_for_person(shopper)
            await desk_leaver.expect("event", where=is_assignment(leaver["id"]))
        # Gone, but within the grace: still theirs, even with a colleague free.
        await set_presence(desk_stayer, "online")
        row = (await admin.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert row["assignee"]["id"] == leaver["id"]
        moved = await desk_stayer.expect("event", where=is_assignment(stayer["id"]), timeout=10)
        assert moved["event"]["conversation_id"] == conversation_id
        reasons = [
            e["data"].get("reason")
            for e in (await admin.get(f"/api/v1/conversations/{conversation_id}/events")).json()[
                "events"
            ]
            if e["type"] == "conversation.status_changed"
        ]
        assert reasons == ["asked_for_person", "routed", "agent_away", "routed"]
    await admin.aclose()


async def test_routing_and_sla_settings_are_checked_and_read_back(
    server: LiveServer, store: StoreFixture
) -> None:
    admin = await admin_of(server, store)
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    defaults = (await agent.get("/api/v1/settings/routing")).json()
    assert defaults == {"priority_rules": [], "grace_s": 120, "away_after_s": 600}
    assert (await agent.get("/api/v1/settings/sla")).json() == {
        "first_response_s": None,
        "next_response_s": None,
        "resolution_s": None,
        "warn_before_s": 60,
    }
    rules = [{"when": "tag", "tag": "vip", "priority": 30}]
    put = await admin.put("/api/v1/settings/routing", json={"priority_rules": rules})
    assert put.json()["priority_rules"] == rules
    assert (await agent.get("/api/v1/settings/routing")).json()["priority_rules"] == rules
    sla = {"first_response_s": 120, "next_response_s": 300, "resolution_s": 3600}
    assert (await admin.put("/api/v1/settings/sla", json=sla)).json()["resolution_s"] == 3600
    for section, body, field in (
        ("routing", {"grace_s": -1}, "grace_s"),
        ("routing", {"away_after_s": 5}, "away_after_s"),
        (
            "routing",
            {"priority_rules": [{"when": "moon", "priority": 1}]},
            "priority_rules[0].when",
        ),
        ("routing", {"priority_rules": [{"when": "tag", "priority": 1}]}, "priority_rules[0].tag"),
        ("sla", {"first_response_s": 0}, "first_response_s"),
        ("sla", {"warn_before": 10}, "warn_before"),
    ):
        refused = await admin.put(f"/api/v1/settings/{section}", json=body)
        assert refused.status_code == 400, body
        assert refused.json()["error"]["details"][0]["field"] == field
    # Only admins change them.
    assert (await agent.put("/api/v1/settings/sla", json=sla)).status_code == 403
    for client in (admin, agent):
        await client.aclose()
