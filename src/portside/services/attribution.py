"""Crediting an order to the buyer's visitor, their conversations, the proactive
messages that reached them, and the coupon they used (the rules: domain/attribution.py).

Runs inside the transaction that stores the order (services/orders_in.py), on every
delivery of it: what was credited stays credited (a cancelled order keeps its
attributions; analytics leaves cancelled orders out of revenue), what a later delivery
reveals (the customer id of a visitor identified since) is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from portside.domain.attribution import (
    Attribution,
    Fire,
    RedeemedCoupon,
    ShopperMessage,
    attribute,
    choose_visitor,
    visitor_id_from,
    window_start,
)
from portside.domain.order_intake import IncomingOrder
from portside.services.coupons import redeem_code
from portside.storage import order_store


@dataclass(frozen=True)
class Credited:
    """Whom the order was put down to (`how`: "visitor_id", "customer_id", "email",
    "coupon", or "kept" from an earlier delivery) and everything it is credited to."""

    visitor_id: int | None
    how: str | None
    refs: list[str]


def do_attribute_order(
    conn: Connection,
    *,
    store_id: int,
    order_id: int,
    order: IncomingOrder,
    placed_at: datetime,
    known_visitor: int | None,
    window_days: int,
    now: datetime,
) -> Credited:
    """Redeem the order's coupons, find its visitor and add what it is credited to."""
    code_ids = []
    for code in order.coupons:
        code_id = redeem_code(conn, store_id=store_id, code=code, order_id=order_id, at=placed_at)
        if code_id is not None:
            code_ids.append(code_id)
    codes = order_store.list_coupon_codes(conn, store_id, code_ids)
    visitor_id, how = (
        (known_visitor, "kept")
        if known_visitor
        else _find_visitor(conn, store_id, order, [c.visitor_id for c in codes if c.visitor_id])
    )
    if visitor_id is not None and visitor_id != known_visitor:
        order_store.update_order(conn, store_id, order_id, {"visitor_id": visitor_id})
    messages: list[ShopperMessage] = []
    fires: list[Fire] = []
    if visitor_id is not None:
        since = window_start(placed_at, window_days)
        messages = [
            ShopperMessage(int(row.conversation_id), row.at)
            for row in order_store.list_shopper_messages(
                conn, store_id, visitor_id, since, placed_at
            )
        ]
        fires = [
            Fire(int(row.id), int(row.trigger_id), row.at, bool(row.held_out), row.conversation_id)
            for row in order_store.list_fires(conn, store_id, visitor_id, since, placed_at)
        ]
    found = attribute(
        placed_at=placed_at,
        window_days=window_days,
        messages=messages,
        fires=fires,
        coupons=[RedeemedCoupon(int(c.id), c.trigger_id) for c in codes],
    )
    _add(conn, store_id, order_id, found, now)
    return Credited(
        visitor_id, how, sorted(order_store.list_attribution_refs(conn, store_id, order_id))
    )


def _find_visitor(
    conn: Connection, store_id: int, order: IncomingOrder, coupon_holders: list[int]
) -> tuple[int | None, str | None]:
    by_ref = visitor_id_from(order.visitor_ref)
    if by_ref is not None and not order_store.visitor_exists(conn, store_id, by_ref):
        by_ref = None  # another store's visitor, or one erased since
    # Each rule is looked up only when the ones before it found no one.
    candidates: list[tuple[str, int | None]] = [("visitor_id", by_ref)]
    if by_ref is None and order.customer_id:
        candidates.append(
            ("customer_id", order_store.find_visitor_by_customer(conn, store_id, order.customer_id))
        )
    if candidates[-1][1] is None and order.email:
        candidates.append(("email", order_store.find_visitor_by_email(conn, store_id, order.email)))
    candidates.append(("coupon", coupon_holders[0] if coupon_holders else None))
    return choose_visitor(*candidates)


def _add(
    conn: Connection, store_id: int, order_id: int, found: list[Attribution], now: datetime
) -> None:
    have = order_store.list_attribution_refs(conn, store_id, order_id)
    for item in found:
        if item.ref in have:
            continue
        order_store.insert_attribution(
            conn,
            store_id=store_id,
            order_id=order_id,
            now=now,
            kind=item.kind,
            ref=item.ref,
            conversation_id=item.conversation_id,
            trigger_id=item.trigger_id,
            fire_id=item.fire_id,
            coupon_code_id=item.coupon_code_id,
        )
