"""Coupon pools over the real server: admins and supervisors make pools and their codes
(generated from a pattern, or imported from CSV, all or nothing), every agent of the
store reads them, another store never sees them."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from portside.domain.coupons import ALPHABET
from portside.services.context import Services
from portside.services.coupons import claim_code, redeem_code
from portside.services.stores import do_create_agent
from tests.support.clients import login
from tests.support.coupons import insert_order, insert_visitors
from tests.support.factories import PASSWORD, StoreFixture, make_store
from tests.support.server import LiveServer

POOLS = "/api/v1/coupon-pools"
WELCOME = {
    "name": "Welcome 10%",
    "description": {"en": "10% off your first order", "es": "10 % en tu primer pedido"},
    "pattern": "welcome-{xxxxxx}",
    "expires_at": "2031-01-31T23:59:59Z",
    "per_visitor_limit": 2,
}


@dataclass
class People:
    """The store's admin, a supervisor and an agent, logged in; `login` for more."""

    admin: httpx.AsyncClient
    supervisor: httpx.AsyncClient
    agent: httpx.AsyncClient
    opened: list[httpx.AsyncClient]
    server: LiveServer

    async def login(self, email: str) -> httpx.AsyncClient:
        client = await login(self.server.base_url, email, PASSWORD)
        self.opened.append(client)
        return client


@pytest.fixture
async def people(server: LiveServer, svc: Services, store: StoreFixture) -> AsyncIterator[People]:
    email = f"sup-{secrets.token_hex(4)}@store{store.id}.example"
    await do_create_agent(
        svc, store_id=store.id, email=email, name="Sam", password=PASSWORD, role="supervisor"
    )
    opened: list[httpx.AsyncClient] = []
    try:
        for address in (store.agents[0]["email"], email, store.agents[1]["email"]):
            opened.append(await login(server.base_url, address, PASSWORD))
        admin, supervisor, agent = opened
        yield People(admin, supervisor, agent, opened=opened, server=server)
    finally:
        for client in opened:
            await client.aclose()


def _problem(response: httpx.Response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    field = error["details"][0].get("field") if error.get("details") else None
    return response.status_code, error["code"], field


async def test_managers_write_agents_read_and_other_stores_see_nothing(
    server: LiveServer, svc: Services, store: StoreFixture, people: People
) -> None:
    admin, supervisor, agent = people.admin, people.supervisor, people.agent
    created = await supervisor.post(POOLS, json=WELCOME)
    assert created.status_code == 201, created.text
    pool = created.json()
    assert {key: pool[key] for key in ("name", "pattern", "expires_at", "per_visitor_limit")} == {
        "name": "Welcome 10%",
        "pattern": "WELCOME-{XXXXXX}",
        "expires_at": "2031-01-31T23:59:59.000Z",
        "per_visitor_limit": 2,
    }
    assert pool["description"] == WELCOME["description"]
    assert pool["counts"] == {"free": 0, "issued": 0, "redeemed": 0}
    imported = await admin.post(
        f"{POOLS}/{pool['id']}", json={}
    )  # no such route for POST: the API is GET/PATCH/DELETE on a pool
    assert imported.status_code == 405

    listed = (await agent.get(POOLS)).json()["coupon_pools"]
    assert [p["id"] for p in listed] == [pool["id"]]
    assert (await agent.get(f"{POOLS}/{pool['id']}")).json() == pool

    for refused in (
        await agent.post(POOLS, json={**WELCOME, "name": "Mine"}),
        await agent.patch(f"{POOLS}/{pool['id']}", json={"per_visitor_limit": 5}),
        await agent.post(f"{POOLS}/{pool['id']}/generate", json={"count": 5}),
        await agent.post(
            f"{POOLS}/{pool['id']}/import",
            content="ABC-123\n",
            headers={"Content-Type": "text/csv"},
        ),
        await agent.delete(f"{POOLS}/{pool['id']}"),
    ):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"

    changed = await admin.patch(
        f"{POOLS}/{pool['id']}", json={"per_visitor_limit": 1, "expires_at": None, "name": " W10 "}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["per_visitor_limit"], changed.json()["expires_at"]) == (1, None)
    assert changed.json()["name"] == "W10"
    again = await admin.post(POOLS, json={**WELCOME, "name": "W10"})
    assert _problem(again) == (409, "conflict", "name")

    # Another store: its own pool of the same name; neither sees the other's.
    other = await make_store(svc, origin=server.origin, agents=1)
    theirs = await people.login(other.agents[0]["email"])
    assert (await theirs.post(POOLS, json={**WELCOME, "name": "W10"})).status_code == 201
    assert (await theirs.get(f"{POOLS}/{pool['id']}")).status_code == 404
    assert (await theirs.get(f"{POOLS}/{pool['id']}/codes")).status_code == 404
    assert (await theirs.patch(f"{POOLS}/{pool['id']}", json={"name": "x"})).status_code == 404
    assert (
        await theirs.post(f"{POOLS}/{pool['id']}/generate", json={"count": 1})
    ).status_code == 404
    assert (await theirs.delete(f"{POOLS}/{pool['id']}")).status_code == 404
    assert [p["name"] for p in (await theirs.get(POOLS)).json()["coupon_pools"]] == ["W10"]
    assert [p["id"] for p in (await agent.get(POOLS)).json()["coupon_pools"]] == [pool["id"]]

    assert (await admin.delete(f"{POOLS}/{pool['id']}")).status_code == 204
    assert (await agent.get(f"{POOLS}/{pool['id']}")).status_code == 404


async def test_a_pool_is_refused_with_the_field_that_is_wrong(
    people: People,
) -> None:
    admin = people.admin
    cases: list[tuple[dict[str, Any], str]] = [
        ({"description": {"en": "x"}}, "name"),
        ({"name": "A"}, "description"),
        ({"name": "A", "description": {}}, "description"),
        ({"name": "A", "description": {"xx-nope-zz": "x"}}, "description"),
        ({"name": "A", "description": {"en": " "}}, "description"),
        ({"name": "A" * 101, "description": {"en": "x"}}, "name"),
        ({"name": "A", "description": {"en": "x"}, "per_visitor_limit": 0}, "per_visitor_limit"),
        ({"name": "A", "description": {"en": "x"}, "per_visitor_limit": "2"}, "per_visitor_limit"),
        ({"name": "A", "description": {"en": "x"}, "expires_at": "soon"}, "expires_at"),
        ({"name": "A", "description": {"en": "x"}, "pattern": "WELCOME"}, "pattern"),
        ({"name": "A", "description": {"en": "x"}, "pattern": "W-{XY}"}, "pattern"),
        ({"name": "A", "description": {"en": "x"}, "pattern": "W {XX}"}, "pattern"),
    ]
    for body, field in cases:
        response = await admin.post(POOLS, json=body)
        assert _problem(response) == (400, "invalid_request", field), body
    unknown = await admin.post(POOLS, json={"name": "A", "description": {"en": "x"}, "size": 1})
    assert unknown.status_code in (400, 422)
    assert (await admin.get(POOLS)).json()["coupon_pools"] == []


async def test_generated_codes_follow_the_pattern_and_are_listed_page_by_page(
    server: LiveServer, svc: Services, store: StoreFixture, people: People
) -> None:
    admin, supervisor, agent = people.admin, people.supervisor, people.agent
    pool = (await admin.post(POOLS, json=WELCOME)).json()
    generated = await supervisor.post(f"{POOLS}/{pool['id']}/generate", json={"count": 6_000})
    assert generated.status_code == 201, generated.text
    assert generated.json()["generated"] == 6_000
    assert generated.json()["pool"]["counts"] == {"free": 6_000, "issued": 0, "redeemed": 0}

    codes: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1_000, **({"after": after} if after else {})}
        page = (await agent.get(f"{POOLS}/{pool['id']}/codes", params=params)).json()
        codes += [code["code"] for code in page["codes"]]
        assert all(code["status"] == "free" for code in page["codes"])
        after = page["next"]
        if after is None:
            break
    assert len(codes) == len(set(codes)) == 6_000
    shape = re.compile(f"WELCOME-[{ALPHABET}]{{6}}")
    assert all(shape.fullmatch(code) for code in codes)

    for body, field in (({"count": 0}, "count"), ({"count": 100_001}, "count"), ({}, "count")):
        response = await admin.post(f"{POOLS}/{pool['id']}/generate", json=body)
        assert _problem(response) == (400, "invalid_request", field)
    # Three digits make 1,000 codes: too few for 20 (it takes 100 times as many).
    small = (await admin.post(POOLS, json={**WELCOME, "name": "S", "pattern": "S-{999}"})).json()
    too_many = await admin.post(f"{POOLS}/{small['id']}/generate", json={"count": 20})
    assert _problem(too_many) == (400, "invalid_request", "count")
    assert "1,000 different codes" in too_many.json()["error"]["message"]
    assert (
        await admin.post(f"{POOLS}/{small['id']}/generate", json={"count": 10})
    ).status_code == 201
    imported = (await admin.post(POOLS, json={**WELCOME, "name": "I", "pattern": None})).json()
    no_pattern = await admin.post(f"{POOLS}/{imported['id']}/generate", json={"count": 1})
    assert _problem(no_pattern) == (400, "invalid_request", "pattern")
    bad = await agent.get(f"{POOLS}/{pool['id']}/codes", params={"status": "lost"})
    assert _problem(bad) == (400, "invalid_request", "status")


async def _import(client: httpx.AsyncClient, pool_id: int, text: str | bytes) -> httpx.Response:
    return await client.post(
        f"{POOLS}/{pool_id}/import", content=text, headers={"Content-Type": "text/csv"}
    )


async def test_an_import_stores_every_code_or_none_and_names_the_wrong_lines(
    svc: Services, store: StoreFixture, people: People
) -> None:
    admin, agent = people.admin, people.agent
    first = (await admin.post(POOLS, json={**WELCOME, "pattern": None})).json()
    second = (await admin.post(POOLS, json={**WELCOME, "name": "Second", "pattern": None})).json()
    done = await _import(admin, first["id"], "code\r\nSPRING-1\n\n spring-2 \nSPRING-3\n")
    assert done.status_code == 201, done.text
    assert done.json()["imported"] == 3
    assert done.json()["pool"]["counts"]["free"] == 3

    wrong = await _import(
        admin,
        second["id"],
        "code\nSUMMER-1\nsummer-1\nno\nSPRING-2\nSUMMER-2,extra\nSUMMER-3\n\nhas space\n",
    )
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["code"] == "import_invalid"
    assert [(d["line"], d["problem"]) for d in error["details"]] == [
        (3, "SUMMER-1 is already on line 2."),
        (4, "'no' is not a code: a code has 3 to 64 letters A-Z, digits, - and _."),
        (5, "SPRING-2 is already in the pool 'Welcome 10%'."),
        (6, "A line has one code only."),
        (9, "'has space' is not a code: a code has 3 to 64 letters A-Z, digits, - and _."),
    ]
    assert "nothing was imported" in error["message"]
    assert (await agent.get(f"{POOLS}/{second['id']}")).json()["counts"]["free"] == 0
    again = await _import(admin, first["id"], "SPRING-3\n")
    assert again.json()["error"]["details"] == [
        {"line": 1, "problem": "SPRING-3 is already in this pool."}
    ]

    assert _problem(await _import(admin, first["id"], "code\n\n"))[:2] == (400, "invalid_request")
    assert (await _import(admin, first["id"], b"\xff\xfe")).status_code == 400
    as_json = await admin.post(f"{POOLS}/{first['id']}/import", json=["A-1"])
    assert _problem(as_json)[:2] == (415, "unsupported_media_type")
    huge = await _import(admin, first["id"], "ABCDEFGH-1234567\n" * 330_000)
    assert _problem(huge)[:2] == (413, "payload_too_large")
    listed = (await agent.get(f"{POOLS}/{first['id']}/codes")).json()
    assert [code["code"] for code in listed["codes"]] == ["SPRING-1", "SPRING-2", "SPRING-3"]
    assert listed["next"] is None


async def test_codes_are_listed_by_status_and_a_pool_in_use_stays(
    svc: Services, store: StoreFixture, people: People
) -> None:
    admin, agent = people.admin, people.agent
    pool = (await admin.post(POOLS, json={**WELCOME, "pattern": None})).json()
    await _import(admin, pool["id"], "A-100\nA-200\nA-300\n")
    now = svc.clock.now()

    def claim_and_redeem(conn: Connection) -> None:
        first, second = insert_visitors(conn, store.id, now, 2)
        for visitor in (first, second):
            claim_code(
                conn,
                store_id=store.id,
                pool_id=pool["id"],
                visitor_id=visitor,
                trigger_id=None,
                now=now,
            )
        order = insert_order(conn, store.id, now)
        redeem_code(conn, store_id=store.id, code="A-100", order_id=order, at=now)

    await svc.db.write(claim_and_redeem)
    by_status = {}
    for status in ("free", "issued", "redeemed"):
        page = (await agent.get(f"{POOLS}/{pool['id']}/codes", params={"status": status})).json()
        by_status[status] = [code["code"] for code in page["codes"]]
    assert by_status == {"free": ["A-300"], "issued": ["A-200"], "redeemed": ["A-100"]}
    redeemed = (
        await agent.get(f"{POOLS}/{pool['id']}/codes", params={"status": "redeemed"})
    ).json()
    code = redeemed["codes"][0]
    assert code["visitor_id"] is not None and code["order_id"] is not None
    assert code["issued_at"] is not None and code["redeemed_at"] is not None
    assert (await agent.get(f"{POOLS}/{pool['id']}")).json()["counts"] == {
        "free": 1,
        "issued": 1,
        "redeemed": 1,
    }
    kept = await admin.delete(f"{POOLS}/{pool['id']}")
    assert _problem(kept)[:2] == (409, "conflict")
    assert (await agent.get(f"{POOLS}/{pool['id']}")).status_code == 200
