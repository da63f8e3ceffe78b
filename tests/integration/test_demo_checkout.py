"""The demo shop's checkout: priced by the server, coupon checked, stored and credited
like a shop's order webhook."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, select

from portside.services.context import Services
from portside.services.demo import DEMO_STORE_KEY, do_seed_demo
from portside.storage import coupon_store, store_store
from portside.storage.tables import orders
from tests.support.clients import widget
from tests.support.factories import switch_off_trigger_rules
from tests.support.server import LiveServer

DRESS = {"slug": "silk-slip-dress", "sku": "LP-SSD-CHA-S", "qty": 2}


@pytest.fixture
async def demo(svc: Services, server: LiveServer) -> int:
    await do_seed_demo(svc, origins=[server.origin])
    await switch_off_trigger_rules(svc, DEMO_STORE_KEY)
    store = await svc.db.read(lambda conn: store_store.find_store_by_key(conn, DEMO_STORE_KEY))
    assert store is not None
    return int(store.id)


def order(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lines": [DRESS],
        "name": "Ana García",
        "email": "ana.garcia@example.com",
        "country": "ES",
    }
    return {**body, **changes}


def count_orders(conn: Connection, store_id: int) -> int:
    query = select(func.count()).select_from(orders).where(orders.c.store_id == store_id)
    return int(conn.execute(query).scalar_one())


async def checkout(server: LiveServer, body: Any, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        return await http.post("/demo/checkout", json=body, headers=headers)


async def free_code(svc: Services, store_id: int) -> str:
    def first(conn: Any) -> str:
        pool = coupon_store.find_pool_by_name(conn, store_id, "Welcome 10%")
        assert pool is not None
        rows = coupon_store.list_codes(conn, store_id, pool.id, status="free", limit=1, after=None)
        return str(rows[0].code)

    return await svc.db.read(first)


async def test_the_order_is_priced_by_the_catalogue_and_credited_to_the_shoppers_chat(
    server: LiveServer, demo: int
) -> None:
    async with widget(server.ws_url, DEMO_STORE_KEY, server.origin) as shopper:
        visitor_id = int((await shopper.expect("welcome"))["visitor"]["id"])
        await shopper.send(type="message.send", client_id="c-1", text="Is the dress silk?")
        await shopper.expect("ack")
    # A price sent by the page is not read: the catalogue's is.
    line = {**DRESS, "price": "0.01"}
    answer = await checkout(server, order(lines=[line], visitor_id=visitor_id))
    assert answer.status_code == 200, answer.text
    placed = answer.json()
    assert (placed["total"], placed["currency"], placed["coupon"]) == ("316.00", "USD", None)
    assert placed["number"].startswith("LP")
    assert [ref.split(":")[0] for ref in placed["attributions"]] == ["conversation"]


async def test_a_coupon_takes_ten_percent_off_once_and_is_redeemed(
    svc: Services, server: LiveServer, demo: int
) -> None:
    code = await free_code(svc, demo)
    first = await checkout(server, order(coupon=f" {code.lower()} "))
    assert first.status_code == 200, first.text
    assert (first.json()["total"], first.json()["coupon"]) == ("284.40", code)
    row = await svc.db.read(lambda conn: coupon_store.find_code(conn, demo, code))
    assert row is not None and row.redeemed_at is not None and row.order_id is not None
    again = await checkout(server, order(coupon=code))
    assert again.status_code == 400
    assert again.json()["error"]["details"][0]["field"] == "coupon"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{**DRESS, "sku": "LP-NOPE"}]}, "lines[0]"),
        ({"lines": [{**DRESS, "qty": 0}]}, "lines[0].qty"),
        ({"email": "not an email"}, "email"),
        ({"country": "Spain"}, "country"),
        ({"name": " "}, "name"),
        ({"coupon": "NOT-A-CODE"}, "coupon"),
    ],
)
async def test_a_wrong_order_is_refused_naming_its_field_and_nothing_is_stored(
    svc: Services, server: LiveServer, demo: int, changes: dict[str, Any], field: str
) -> None:
    before = await svc.db.read(lambda conn: count_orders(conn, demo))
    answer = await checkout(server, order(**changes))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["details"][0]["field"] == field
    after = await svc.db.read(lambda conn: count_orders(conn, demo))
    assert after == before


async def test_orders_from_another_site_are_refused(server: LiveServer, demo: int) -> None:
    answer = await checkout(server, order(), Origin="https://elsewhere.example")
    assert answer.status_code == 403
