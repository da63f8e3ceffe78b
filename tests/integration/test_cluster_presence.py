"""Presence and limits across real Portside processes on one PostgreSQL and one Redis:
closing a console or a widget on one node does not take offline someone still connected
to another, and a limit is counted once for all the nodes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import httpx
from redis.asyncio import Redis

from portside.services import visitor_presence
from portside.services.context import Services
from tests.support.clients import Frame, console, widget
from tests.support.cluster import ClusterKit
from tests.support.cluster_chat import SHOP, logged_in, store_on
from tests.support.server import redis_db

Check = Callable[[], Awaitable[bool]]


def presence_of(agent_id: int, presence: str) -> Callable[[Frame], bool]:
    return lambda f: f["agent_id"] == agent_id and f["presence"] == presence


def presence_frames(frames: list[Frame], agent_id: int) -> list[str]:
    return [f["presence"] for f in frames if f["type"] == "presence" and f["agent_id"] == agent_id]


async def test_an_agent_with_consoles_on_two_nodes_is_online_until_the_last_one_closes(
    cluster: ClusterKit,
) -> None:
    nodes = cluster.start(2, PORTSIDE_AGENT="off")
    a, b = nodes.nodes
    async with store_on(nodes) as (_svc, store, stack):
        watcher, person = store.agents
        watching_http = await logged_in(stack, a.base_url, watcher)
        on_a_http = await logged_in(stack, a.base_url, person)
        on_b_http = await logged_in(stack, b.base_url, person)
        async with console(a.ws_url, watching_http) as watching:
            await watching.expect("welcome")
            async with console(a.ws_url, on_a_http) as on_a:
                await on_a.expect("welcome")
                await watching.expect("presence", where=presence_of(person["id"], "online"))
                async with console(b.ws_url, on_b_http) as on_b:
                    await on_b.expect("welcome")
                    # B's connect is written (it tells the consoles, as A's did).
                    await watching.expect("presence", where=presence_of(person["id"], "online"))
                # B, the later writer, closed: A renews at once and nothing ends. Waited
                # for past the moment B gives the other nodes (desk.ENDED_AFTER_S).
                assert "offline" not in presence_frames(await watching.quiet(2.5), person["id"])
                assert await agent_presence(watching_http, person["id"]) == "online"
                async with console(b.ws_url, on_b_http) as on_b:
                    await on_b.expect("welcome")
                    await watching.expect("presence", where=presence_of(person["id"], "online"))
                    await on_a.send(type="presence.set", presence="away")
                    await watching.expect("presence", where=presence_of(person["id"], "away"))
                    await on_a.close()
                    # A closed while B is open: what the agent chose stays.
                    frames = await watching.quiet(2.5)
                    assert set(presence_frames(frames, person["id"])) <= {"away"}
                    assert await agent_presence(watching_http, person["id"]) == "away"
                # The last console anywhere closed: offline.
                await watching.expect(
                    "presence", where=presence_of(person["id"], "offline"), timeout=10
                )
            assert await agent_presence(watching_http, person["id"]) == "offline"


async def agent_presence(http: httpx.AsyncClient, agent_id: int) -> str:
    agents = (await http.get("/api/v1/agents")).json()["agents"]
    return str(next(a["presence"] for a in agents if a["id"] == agent_id))


async def test_a_shopper_with_widgets_on_two_nodes_is_online_until_the_last_one_closes(
    cluster: ClusterKit,
) -> None:
    nodes = cluster.start(2, PORTSIDE_AGENT="off")
    a, b = nodes.nodes
    async with (
        store_on(nodes) as (svc, store, _stack),
        widget(a.ws_url, store.widget_key, SHOP) as tab_a,
    ):
        welcome = await tab_a.expect("welcome")
        visitor_id, token = welcome["visitor"]["id"], welcome["visitor"]["token"]
        assert await visitor_presence.is_online(svc, store.id, visitor_id)
        async with widget(b.ws_url, store.widget_key, SHOP, hello={"token": token}) as tab_b:
            assert (await tab_b.expect("welcome"))["visitor"]["id"] == visitor_id
            await tab_a.close()
            # A wrote first: its tab closing leaves B's renewal in place.
            assert await stays(lambda: online(svc, store.id, visitor_id), seconds=2)
            async with widget(a.ws_url, store.widget_key, SHOP, hello={"token": token}) as again:
                await again.expect("welcome")
            # A wrote last and ended it; B, told, renewed at once (not in 10 s).
            assert await settles(lambda: online(svc, store.id, visitor_id), seconds=5)
        assert await settles(lambda: offline(svc, store.id, visitor_id), seconds=5)


async def online(svc: Services, store_id: int, visitor_id: int) -> bool:
    return await visitor_presence.is_online(svc, store_id, visitor_id)


async def offline(svc: Services, store_id: int, visitor_id: int) -> bool:
    return not await visitor_presence.is_online(svc, store_id, visitor_id)


async def settles(check: Check, *, seconds: float) -> bool:
    """Whether `check` comes true within `seconds` (the nodes work in the background)."""
    for _ in range(round(seconds / 0.05)):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def stays(check: Check, *, seconds: float) -> bool:
    """Whether `check` holds at every look for `seconds`."""
    for _ in range(round(seconds / 0.05)):
        if not await check():
            return False
        await asyncio.sleep(0.05)
    return True


async def test_two_nodes_count_one_login_limit(cluster: ClusterKit) -> None:
    # A Redis database of its own: the suite's other nodes log in from this address too,
    # and their tries would count against the limit under test.
    own = redis_db(12)
    async with Redis.from_url(own) as redis:
        await redis.flushdb()
    nodes = cluster.start(2, redis_url=own, PORTSIDE_AGENT="off", PORTSIDE_LOGINS_PER_MINUTE="3")
    a, b = nodes.nodes
    email = f"nobody-{secrets.token_hex(4)}@limits.example"
    statuses = []
    async with httpx.AsyncClient(timeout=10) as http:
        for node in (a, b, a, b, a):
            answer = await http.post(
                f"{node.base_url}/api/v1/auth/login", json={"email": email, "password": "wrong"}
            )
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert answer.json()["error"]["code"] == "rate_limited"
    # Three tries in all, not three on each node.
    assert statuses == [401, 401, 401, 429, 429]
