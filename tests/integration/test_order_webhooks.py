"""Orders by webhook over a real server: Shopify's signed deliveries and Portside's own,
stored once however often they come, refused with nothing stored when the signature is
wrong, and credited to the shopper's conversations, proactive messages and coupon."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, select, update

from portside.domain.webhooks import portside_signature
from portside.services.context import Services
from portside.services.coupons import claim_code
from portside.storage import coupon_store, store_store
from portside.storage.tables import (
    coupon_codes,
    events,
    order_attributions,
    orders,
    trigger_fires,
    triggers,
    visitors,
    webhook_deliveries,
)
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer, free_port
from tests.support.webhooks import generic_order, post_generic, post_shopify, shopify_payload

SHOPIFY_SECRET = "shpss_" + "5f1c9a7e2b4d6f8091a3c5e7d9b1f3a5"
WEBHOOK_SECRET = "whsec-" + "0123456789abcdef0123"


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


async def configure(server: LiveServer, store: StoreFixture, **extra: Any) -> None:
    admin = store.agents[0]
    console = await login(server.base_url, admin["email"], admin["password"])
    try:
        body = {"shopify_secret": SHOPIFY_SECRET, "webhook_secret": WEBHOOK_SECRET, **extra}
        response = await console.put("/api/v1/settings/orders", json=body)
        assert response.status_code == 200, response.text
        shown = (await console.get("/api/v1/settings/orders")).json()
    finally:
        await console.aclose()
    assert shown == {
        "has_shopify_secret": True,
        "has_webhook_secret": True,
        "attribution_window_days": extra.get("attribution_window_days", 7),
    }


async def shopper_writes(server: LiveServer, store: StoreFixture) -> tuple[int, int]:
    """A shopper who wrote to the store: their visitor id and conversation id."""
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        visitor_id = (await shopper.expect("welcome"))["visitor"]["id"]
        await shopper.send(type="message.send", client_id=client_id(), text="Does S fit me?")
        ack = await shopper.expect("ack")
    return int(visitor_id), int(ack["conversation_id"])


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


async def order_row(svc: Services, store_id: int, number: str) -> Any:
    return await svc.db.read(
        lambda conn: conn.execute(
            select(orders).where(orders.c.store_id == store_id, orders.c.number == number)
        ).first()
    )


async def credits(svc: Services, order_id: int) -> list[tuple[str, str]]:
    rows = await svc.db.read(
        lambda conn: conn.execute(
            select(order_attributions.c.kind, order_attributions.c.ref)
            .where(order_attributions.c.order_id == order_id)
            .order_by(order_attributions.c.id)
        ).all()
    )
    return [(row.kind, row.ref) for row in rows]


async def count(svc: Services, table: Any, store_id: int) -> int:
    return int(
        await svc.db.read(
            lambda conn: conn.execute(
                select(func.count()).select_from(table).where(table.c.store_id == store_id)
            ).scalar_one()
        )
    )


async def test_a_signed_shopify_order_is_stored_once_though_delivered_three_times(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    payload = shopify_payload(visitor=None)
    answers = [
        await post_shopify(http, store.widget_key, payload, SHOPIFY_SECRET, webhook_id="wh-1")
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[0].json()["stored"] is True
    assert answers[0].json()["order"]["number"] == "#1001"
    assert [a.json() for a in answers[1:]] == [
        {"stored": False, "duplicate": True, "order": None}
    ] * 2
    assert await count(svc, orders, store.id) == 1
    assert await count(svc, webhook_deliveries, store.id) == 1
    row = await order_row(svc, store.id, "#1001")
    assert (row.source, row.status, row.total_cents, row.currency) == (
        "shopify",
        "placed",
        19900,
        "EUR",
    )
    assert (row.external_id, row.customer_id, row.email, row.coupon) == (
        "5889123467534",
        "7190345678901",
        "ana.garcia@example.com",
        "WELCOME-7QX2",
    )
    assert row.placed_at == datetime(2026, 12, 4, 17, 42, 7, tzinfo=UTC)
    # The AI agent finds it as it finds any order, and checks it by email or postcode.
    found = await svc.db.read(lambda conn: store_store.find_order(conn, store.id, "#1001"))
    assert found is not None
    assert (found["email"], found["postcode"], found["status"]) == (
        "ana.garcia@example.com",
        "28013",
        "processing",
    )


async def test_one_delivery_sent_three_times_at_once_is_stored_once(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    payload = shopify_payload("orders/paid", name="#1002")
    answers = await asyncio.gather(
        *(
            post_shopify(http, store.widget_key, payload, SHOPIFY_SECRET, "orders/paid", "wh-9")
            for _ in range(3)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert sum(a.json()["duplicate"] for a in answers) == 2
    assert await count(svc, orders, store.id) == 1
    assert await count(svc, webhook_deliveries, store.id) == 1


async def test_a_bad_signature_is_refused_logged_and_nothing_stored(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    payload = shopify_payload()
    wrong = await post_shopify(http, store.widget_key, payload, "someone-elses-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "signature_invalid"
    unsigned = await http.post(
        f"/api/v1/webhooks/shopify/{store.widget_key}",
        json=payload,
        headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-unsigned"},
    )
    assert unsigned.status_code == 401
    generic = await post_generic(http, store.widget_key, generic_order(), "not-the-secret-at-all")
    assert generic.status_code == 401
    assert await count(svc, orders, store.id) == 0
    assert await count(svc, webhook_deliveries, store.id) == 0
    log = server.log()
    assert f"refused a shopify order webhook for store {store.id} (topic orders/create" in log
    assert f"refused a api order webhook for store {store.id}" in log
    assert SHOPIFY_SECRET not in log and WEBHOOK_SECRET not in log


async def test_a_store_without_secrets_takes_no_orders(
    svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    refused = await post_shopify(http, store.widget_key, shopify_payload(), SHOPIFY_SECRET)
    assert refused.status_code == 401
    assert "shopify_secret" in refused.json()["error"]["message"]
    assert await count(svc, orders, store.id) == 0


async def test_a_stale_generic_signature_is_refused_a_fresh_one_taken(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    now = int(datetime.now(UTC).timestamp())
    stale = await post_generic(
        http, store.widget_key, generic_order(), WEBHOOK_SECRET, at=now - 600
    )
    assert stale.status_code == 401
    assert stale.json()["error"]["code"] == "signature_expired"
    assert await count(svc, orders, store.id) == 0
    fresh = await post_generic(
        http, store.widget_key, generic_order(), WEBHOOK_SECRET, delivery="d1"
    )
    assert fresh.status_code == 201, fresh.text
    again = await post_generic(
        http, store.widget_key, generic_order(), WEBHOOK_SECRET, delivery="d1"
    )
    assert again.json()["duplicate"] is True
    row = await order_row(svc, store.id, "A-1001")
    assert (row.source, row.status, row.total_cents, row.external_id) == (
        "api",
        "placed",
        8650,
        "ord_8812",
    )


async def test_paid_and_cancelled_update_the_order_and_a_late_create_undoes_nothing(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    visitor_id, _ = await shopper_writes(server, store)
    placed = datetime.now(UTC) + timedelta(seconds=1)
    created = shopify_payload("orders/create", visitor=visitor_id, created_at=iso(placed))
    key = store.widget_key
    assert (await post_shopify(http, key, created, SHOPIFY_SECRET)).status_code == 201
    order_id = (await order_row(svc, store.id, "#1001")).id
    credited = await credits(svc, order_id)
    assert [kind for kind, _ in credited] == ["conversation"]

    paid = shopify_payload("orders/paid", visitor=visitor_id, created_at=iso(placed))
    answer = await post_shopify(http, key, paid, SHOPIFY_SECRET, topic="orders/paid")
    assert answer.json()["order"]["status"] == "paid"
    row = await order_row(svc, store.id, "#1001")
    assert row.status == "paid" and row.paid_at is not None and row.cancelled_at is None

    cancelled = shopify_payload("orders/cancelled", visitor=visitor_id, created_at=iso(placed))
    await post_shopify(http, key, cancelled, SHOPIFY_SECRET, topic="orders/cancelled")
    row = await order_row(svc, store.id, "#1001")
    assert (row.status, row.paid_at is not None) == ("cancelled", True)
    assert row.cancelled_at == datetime(2026, 12, 5, 8, 12, 44, tzinfo=UTC)
    assert row.data["status"] == "cancelled"
    # Cancelled, it keeps what it was credited to.
    assert await credits(svc, order_id) == credited

    # Shopify retries a create that timed out, after everything else: nothing goes back.
    await post_shopify(http, key, created, SHOPIFY_SECRET)
    row = await order_row(svc, store.id, "#1001")
    assert (row.status, row.data["status"]) == ("cancelled", "cancelled")
    assert await count(svc, orders, store.id) == 1
    assert await count(svc, webhook_deliveries, store.id) == 4


async def test_the_order_is_credited_to_the_visitors_conversation(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    visitor_id, conversation_id = await shopper_writes(server, store)
    placed = datetime.now(UTC) + timedelta(seconds=1)
    payload = shopify_payload(visitor=visitor_id, created_at=iso(placed), discount_codes=[])
    answer = (await post_shopify(http, store.widget_key, payload, SHOPIFY_SECRET)).json()
    assert answer["order"]["visitor_id"] == visitor_id
    assert answer["order"]["visitor_found_by"] == "visitor_id"
    assert answer["order"]["attributions"] == [f"conversation:{conversation_id}"]
    row = await order_row(svc, store.id, "#1001")
    assert row.visitor_id == visitor_id
    attributed = await svc.db.read(
        lambda conn: conn.execute(
            select(order_attributions).where(order_attributions.c.order_id == row.id)
        ).one()
    )
    assert (attributed.store_id, attributed.kind, attributed.conversation_id) == (
        store.id,
        "conversation",
        conversation_id,
    )


async def test_the_customer_id_or_the_email_find_the_visitor(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    identified, conversation_id = await shopper_writes(server, store)
    by_email, _ = await shopper_writes(server, store)

    def set_people(conn: Connection) -> None:
        conn.execute(update(visitors).where(visitors.c.id == identified).values(customer_id="c-42"))
        conn.execute(
            update(visitors)
            .where(visitors.c.id == by_email)
            .values(email="Lucas.Silva@example.com")
        )

    await svc.db.write(set_people)
    placed = iso(datetime.now(UTC) + timedelta(seconds=1))
    first = await post_generic(
        http, store.widget_key, generic_order("A-1", placed_at=placed), WEBHOOK_SECRET
    )
    assert first.json()["order"]["visitor_id"] == identified
    assert first.json()["order"]["visitor_found_by"] == "customer_id"
    assert first.json()["order"]["attributions"] == [f"conversation:{conversation_id}"]
    second = await post_generic(
        http,
        store.widget_key,
        generic_order("A-2", placed_at=placed, customer_id="c-unknown"),
        WEBHOOK_SECRET,
    )
    assert second.json()["order"]["visitor_id"] == by_email
    assert second.json()["order"]["visitor_found_by"] == "email"


async def insert_fire(
    svc: Services, store_id: int, visitor_id: int, *, held_out: bool, at: datetime
) -> tuple[int, int]:
    def insert_rows(conn: Connection) -> tuple[int, int]:
        trigger_id = conn.execute(
            triggers.insert()
            .values(
                store_id=store_id,
                name=f"rule-{secrets.token_hex(4)}",
                conditions={"match": "all", "conditions": []},
                actions={"message": {"texts": {"en": "Need a hand?"}}},
                holdout_pct=10,
                created_at=at,
                updated_at=at,
            )
            .returning(triggers.c.id)
        ).scalar_one()
        fire_id = conn.execute(
            trigger_fires.insert()
            .values(
                store_id=store_id,
                trigger_id=trigger_id,
                visitor_id=visitor_id,
                held_out=held_out,
                at=at,
                context={},
            )
            .returning(trigger_fires.c.id)
        ).scalar_one()
        return int(trigger_id), int(fire_id)

    return await svc.db.write(insert_rows)


async def test_a_contacted_trigger_fire_is_credited_a_held_out_one_is_not(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    visitor_id, conversation_id = await shopper_writes(server, store)
    now = datetime.now(UTC)
    trigger_id, contacted = await insert_fire(svc, store.id, visitor_id, held_out=False, at=now)
    _, held_out = await insert_fire(svc, store.id, visitor_id, held_out=True, at=now)
    order = generic_order(visitor_id=str(visitor_id), placed_at=iso(now + timedelta(seconds=1)))
    answer = await post_generic(http, store.widget_key, order, WEBHOOK_SECRET)
    refs = answer.json()["order"]["attributions"]
    assert f"trigger:{contacted}" in refs
    assert f"trigger:{held_out}" not in refs
    assert sorted(refs) == sorted([f"conversation:{conversation_id}", f"trigger:{contacted}"])
    row = await svc.db.read(
        lambda conn: conn.execute(
            select(order_attributions)
            .where(order_attributions.c.kind == "trigger")
            .where(order_attributions.c.store_id == store.id)
        ).one()
    )
    assert (row.trigger_id, row.fire_id) == (trigger_id, contacted)


async def test_history_outside_the_window_is_not_credited(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store, attribution_window_days=3)
    visitor_id, conversation_id = await shopper_writes(server, store)
    long_ago = datetime.now(UTC) - timedelta(days=4)
    await insert_fire(svc, store.id, visitor_id, held_out=False, at=long_ago)
    await svc.db.write(
        lambda conn: conn.execute(
            update(events)
            .where(events.c.conversation_id == conversation_id)
            .values(created_at=long_ago)
        )
    )
    order = generic_order(visitor_id=str(visitor_id), placed_at=iso(datetime.now(UTC)))
    answer = (await post_generic(http, store.widget_key, order, WEBHOOK_SECRET)).json()
    assert answer["order"]["visitor_id"] == visitor_id
    assert answer["order"]["attributions"] == []


async def test_the_coupon_used_is_redeemed_and_credited_to_the_rule_that_gave_it(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    now = datetime.now(UTC)

    def set_up(conn: Connection) -> tuple[int, int, str]:
        visitor_id = store_store.insert_visitor(
            conn, store_id=store.id, created_at=now, last_seen_at=now
        )
        pool_id = coupon_store.insert_pool(
            conn,
            store_id=store.id,
            now=now,
            name="welcome",
            description={"en": "20 € off"},
            pattern=None,
            expires_at=None,
            per_visitor_limit=1,
        )
        coupon_store.insert_codes(
            conn, store_id=store.id, pool_id=pool_id, codes=["WELCOME-7QX2"], now=now
        )
        trigger_id = conn.execute(
            triggers.insert()
            .values(
                store_id=store.id,
                name="exit",
                conditions={},
                actions={},
                created_at=now,
                updated_at=now,
            )
            .returning(triggers.c.id)
        ).scalar_one()
        issued = claim_code(
            conn,
            store_id=store.id,
            pool_id=pool_id,
            visitor_id=visitor_id,
            trigger_id=trigger_id,
            now=now,
        )
        assert issued is not None
        return visitor_id, int(trigger_id), issued.code

    visitor_id, trigger_id, code = await svc.db.write(set_up)
    assert code == "WELCOME-7QX2"
    # No visitor attribute, no customer or email we know: the coupon tells who it was.
    payload = shopify_payload(
        visitor=None,
        customer={"id": 1, "email": "x@example.com"},
        email="x@example.com",
        created_at=iso(now + timedelta(seconds=1)),
    )
    answer = (await post_shopify(http, store.widget_key, payload, SHOPIFY_SECRET)).json()
    order_id = answer["order"]["id"]
    assert answer["order"]["visitor_id"] == visitor_id
    assert answer["order"]["visitor_found_by"] == "coupon"
    redeemed = await svc.db.read(
        lambda conn: conn.execute(
            select(coupon_codes).where(coupon_codes.c.store_id == store.id)
        ).one()
    )
    assert redeemed.order_id == order_id and redeemed.redeemed_at is not None
    row = await svc.db.read(
        lambda conn: conn.execute(
            select(order_attributions).where(order_attributions.c.order_id == order_id)
        ).one()
    )
    assert (row.kind, row.ref, row.coupon_code_id, row.trigger_id) == (
        "coupon",
        f"coupon:{redeemed.id}",
        redeemed.id,
        trigger_id,
    )


async def test_another_stores_key_neither_takes_the_order_nor_finds_its_visitor(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    other = await make_store(svc, origin=server.origin)
    await configure(server, store)
    visitor_id, _ = await shopper_writes(server, store)
    await svc.db.write(
        lambda conn: store_store.write_settings_section(
            conn, other.id, "orders", {"shopify_secret": "the-other-stores-secret"}
        )
    )
    payload = shopify_payload(visitor=visitor_id)
    # Signed with the first store's secret, sent to the other's address.
    refused = await post_shopify(http, other.widget_key, payload, SHOPIFY_SECRET)
    assert refused.status_code == 401
    assert await count(svc, orders, other.id) == 0
    assert await count(svc, orders, store.id) == 0
    # Signed by the other store: it is its order, but the visitor is not its shopper.
    taken = await post_shopify(http, other.widget_key, payload, "the-other-stores-secret")
    assert taken.status_code == 201
    assert taken.json()["order"]["visitor_id"] is None
    assert taken.json()["order"]["attributions"] == []
    assert await count(svc, orders, store.id) == 0
    unknown = await post_shopify(http, "pk_no_such_store", payload, SHOPIFY_SECRET)
    assert unknown.status_code == 404


async def test_unknown_topics_are_ignored_and_a_delivery_needs_its_id(
    server: LiveServer, svc: Services, store: StoreFixture, http: httpx.AsyncClient
) -> None:
    await configure(server, store)
    answer = await post_shopify(
        http, store.widget_key, shopify_payload(), SHOPIFY_SECRET, topic="orders/fulfilled"
    )
    assert answer.status_code == 200
    assert answer.json() == {"stored": False, "ignored": "orders/fulfilled"}
    body = json.dumps(generic_order()).encode()
    missing_id = await http.post(
        f"/api/v1/webhooks/orders/{store.widget_key}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Portside-Signature": portside_signature(body, WEBHOOK_SECRET, int(time.time())),
        },
    )
    assert missing_id.status_code == 400
    assert missing_id.json()["error"]["details"][0]["field"] == "X-Portside-Delivery"
    assert await count(svc, orders, store.id) == 0


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server (SQLite) that takes 3 webhooks a minute from an address, of 2 kB at most."""
    data_dir = tmp_path_factory.mktemp("webhook-limits")
    live = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        port=free_port(),
        env={
            "PORTSIDE_AGENT": "off",
            "PORTSIDE_WEBHOOKS_PER_MINUTE_PER_IP": "3",
            "PORTSIDE_WEBHOOK_BYTES": "2000",
        },
    )
    live.start()
    yield live
    live.stop()


async def test_an_address_is_rate_limited_and_a_large_body_refused(
    small_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=small_server.base_url, timeout=10) as http:
        large = await post_shopify(
            http, "pk_none", shopify_payload(note="x" * 3000), SHOPIFY_SECRET
        )
        assert large.status_code == 413
        assert large.json()["error"]["code"] == "payload_too_large"
        wrong_type = await http.post(
            "/api/v1/webhooks/orders/pk_none", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        assert wrong_type.status_code == 415
        unknown = await post_generic(http, "pk_none", generic_order(), WEBHOOK_SECRET)
        assert unknown.status_code == 404
        limited = await post_generic(http, "pk_none", generic_order(), WEBHOOK_SECRET)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
