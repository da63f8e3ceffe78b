"""Coupon pools: single-use codes handed to visitors by trigger rules, redeemed by orders.

`claim_code` and `redeem_code` are called by the engagement engine and by orders inside
their own `db.write` transaction (docs/engagement.md). The pools themselves are made and
changed by a store's admins and supervisors and read by every agent (docs/api.md); for
their codes (generate, import, list) see coupon_codes.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import format_time
from portside.domain.coupons import IssuedCoupon, check_pattern, normal_code
from portside.errors import Conflict, Forbidden, InvalidRequest, NotFound, field_error
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.stores import check_language
from portside.storage import coupon_store

__all__ = ["IssuedCoupon", "claim_code", "redeem_code"]

log = logging.getLogger(__name__)
T = TypeVar("T")

MANAGERS = ("admin", "supervisor")
FIELDS = ("name", "description", "pattern", "expires_at", "per_visitor_limit")
MAX_POOLS = 200
MAX_NAME = 100
MAX_DESCRIPTION = 300
MAX_PER_VISITOR = 100


def claim_code(
    conn: Connection,
    *,
    store_id: int,
    pool_id: int,
    visitor_id: int,
    trigger_id: int | None,
    now: datetime,
) -> IssuedCoupon | None:
    """Hand the visitor a free code of the pool, or None: the pool is unknown, expired or
    empty, or the visitor already holds its per-visitor limit of the pool's codes.

    Run inside the caller's write transaction; a code goes to one visitor only, however
    many processes claim at once.
    """
    coupon_store.lock_claims(conn, pool_id, visitor_id)
    taken = coupon_store.take_free_code(
        conn,
        store_id=store_id,
        pool_id=pool_id,
        visitor_id=visitor_id,
        trigger_id=trigger_id,
        now=now,
    )
    if taken is None:
        return None
    pool = coupon_store.find_pool(conn, store_id, pool_id)
    assert pool is not None  # the claim just checked it, in this transaction
    return IssuedCoupon(
        code_id=int(taken.id),
        code=taken.code,
        pool_id=pool_id,
        description=dict(pool.description),
        expires_at=pool.expires_at,
    )


def redeem_code(
    conn: Connection, *, store_id: int, code: str, order_id: int, at: datetime
) -> int | None:
    """Record that the order used the code; the code's id, or None if the store has no
    such code. The same order again changes nothing. A code already redeemed by another
    order keeps that order (logged: the shop let one code pay twice)."""
    normal = normal_code(code)
    if normal is None:
        return None
    row = coupon_store.find_code(conn, store_id, normal)
    if row is None:
        return None
    if row.order_id is None and row.redeemed_at is None:
        marked = coupon_store.mark_redeemed(
            conn, row.id, order_id=order_id, at=at, issued_at=row.issued_at or at
        )
        if marked:
            return int(row.id)
        row = coupon_store.find_code(conn, store_id, normal)
        assert row is not None
    if row.order_id != order_id:
        log.warning(
            "coupon code %s of store %s is redeemed by order %s; order %s used it again",
            row.id,
            store_id,
            row.order_id,
            order_id,
        )
    return int(row.id)


def pool_to_dict(row: Any, counts: Mapping[str, int] | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": dict(row.description),
        "pattern": row.pattern,
        "expires_at": format_time(row.expires_at) if row.expires_at else None,
        "per_visitor_limit": row.per_visitor_limit,
        "counts": dict(counts or {"free": 0, "issued": 0, "redeemed": 0}),
        "created_at": format_time(row.created_at),
    }


async def list_pools(svc: Services, agent: AgentIdentity) -> list[dict[str, Any]]:
    def read(conn: Connection) -> list[dict[str, Any]]:
        counts = coupon_store.count_codes(conn, agent.store_id)
        return [
            pool_to_dict(row, counts.get(row.id))
            for row in coupon_store.list_pools(conn, agent.store_id)
        ]

    return await svc.db.read(read)


async def get_pool(svc: Services, agent: AgentIdentity, pool_id: int) -> dict[str, Any]:
    return await svc.db.read(lambda conn: read_pool(conn, agent.store_id, pool_id))


def read_pool(conn: Connection, store_id: int, pool_id: int) -> dict[str, Any]:
    row = coupon_store.find_pool(conn, store_id, pool_id)
    if row is None:
        raise NotFound("There is no such coupon pool.")
    counts = coupon_store.count_codes(conn, store_id, pool_id)
    return pool_to_dict(row, counts.get(pool_id))


async def do_create_pool(
    svc: Services, agent: AgentIdentity, body: Mapping[str, Any]
) -> dict[str, Any]:
    check_manager(agent)
    fields = check_pool_fields(body, required=True)
    now = svc.clock.now()

    def create(conn: Connection) -> dict[str, Any]:
        if len(coupon_store.list_pools(conn, agent.store_id)) >= MAX_POOLS:
            raise InvalidRequest(
                f"A store can have at most {MAX_POOLS} coupon pools; delete some first."
            )
        _check_name_free(conn, agent.store_id, fields["name"], None)
        pool_id = coupon_store.insert_pool(conn, store_id=agent.store_id, now=now, **fields)
        return read_pool(conn, agent.store_id, pool_id)

    return await _write_unique(svc, create)


async def do_update_pool(
    svc: Services, agent: AgentIdentity, pool_id: int, body: Mapping[str, Any]
) -> dict[str, Any]:
    check_manager(agent)
    fields = check_pool_fields(body, required=False)

    def change(conn: Connection) -> dict[str, Any]:
        if coupon_store.find_pool(conn, agent.store_id, pool_id) is None:
            raise NotFound("There is no such coupon pool.")
        if "name" in fields:
            _check_name_free(conn, agent.store_id, fields["name"], pool_id)
        if fields:
            coupon_store.update_pool(conn, agent.store_id, pool_id, **fields)
        return read_pool(conn, agent.store_id, pool_id)

    return await _write_unique(svc, change)


async def do_delete_pool(svc: Services, agent: AgentIdentity, pool_id: int) -> None:
    """Delete a pool and its codes, unless one of them was handed out: then orders and
    reports still point at it, and the pool should be let expire instead."""
    check_manager(agent)

    def remove(conn: Connection) -> None:
        if coupon_store.find_pool(conn, agent.store_id, pool_id) is None:
            raise NotFound("There is no such coupon pool.")
        counts = coupon_store.count_codes(conn, agent.store_id, pool_id).get(pool_id, {})
        if counts.get("issued") or counts.get("redeemed"):
            raise Conflict(
                "Codes of this pool were handed out to shoppers, so it stays for the orders "
                "and reports that refer to them; set its expires_at to stop handing it out."
            )
        coupon_store.delete_pool(conn, agent.store_id, pool_id)

    await svc.db.write(remove)


def check_manager(agent: AgentIdentity) -> None:
    if agent.role not in MANAGERS:
        raise Forbidden("Only a store's admins and supervisors can change its coupons.")


def check_pool_fields(body: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    """The fields given, each checked; with `required`, a new pool's name and description."""
    unknown = sorted(str(key) for key in body if key not in FIELDS)
    if unknown:
        raise field_error(unknown[0], f"Unknown fields: {', '.join(unknown)}.")
    for name in ("name", "description"):
        if required and body.get(name) is None:
            raise field_error(name, f"A coupon pool needs its {name}.")
    checked: dict[str, Any] = {}
    if "name" in body:
        checked["name"] = _check_name(body["name"])
    if "description" in body:
        checked["description"] = _check_description(body["description"])
    if "pattern" in body:
        checked["pattern"] = (
            None if body["pattern"] is None else check_pattern(body["pattern"]).text
        )
    if "expires_at" in body:
        checked["expires_at"] = _check_expiry(body["expires_at"])
    if "per_visitor_limit" in body:
        checked["per_visitor_limit"] = _check_limit(body["per_visitor_limit"])
    return checked


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "A coupon pool needs a name, like 'Welcome 10%'.")
    if len(name.strip()) > MAX_NAME:
        raise field_error("name", f"A pool's name has at most {MAX_NAME} characters.")
    return name.strip()


def _check_description(description: object) -> dict[str, str]:
    """What a code gives, by language: {"en": "10% off", "es": "10 % de descuento"}."""
    if not isinstance(description, dict) or not description:
        raise field_error(
            "description",
            'A description is what a code gives, by language: {"en": "10% off your order"}.',
        )
    checked: dict[str, str] = {}
    for language, text in description.items():
        try:
            check_language(language)
        except InvalidRequest as exc:
            raise field_error("description", exc.message) from None
        if not isinstance(text, str) or not text.strip():
            raise field_error("description", f"The description in {language} is empty.")
        if len(text.strip()) > MAX_DESCRIPTION:
            raise field_error(
                "description",
                f"The description in {language} has more than {MAX_DESCRIPTION} characters.",
            )
        checked[language] = text.strip()
    return checked


def _check_expiry(value: object) -> datetime | None:
    if value is None:
        return None
    when: datetime | None = None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            when = None
    if when is None:
        raise field_error(
            "expires_at", "expires_at is a time like 2027-01-31T23:59:59Z, or null for never."
        )
    # A time without a zone is taken as UTC, as every time in the API is.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _check_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_VISITOR:
        raise field_error(
            "per_visitor_limit",
            f"per_visitor_limit is how many codes of the pool one visitor may get, "
            f"1 to {MAX_PER_VISITOR}.",
        )
    return value


def _check_name_free(conn: Connection, store_id: int, name: str, pool_id: int | None) -> None:
    existing = coupon_store.find_pool_by_name(conn, store_id, name)
    if existing is not None and existing.id != pool_id:
        raise _name_taken(name)


def _name_taken(name: str) -> Conflict:
    message = f"There is already a coupon pool named {name!r}."
    return Conflict(message, details=[{"field": "name", "problem": message}])


async def _write_unique(svc: Services, work: Callable[[Connection], T]) -> T:
    """Of two managers saving the same name at once, the unique index lets one win."""
    try:
        return await svc.db.write(work)
    except IntegrityError:
        message = "Someone saved a coupon pool with this name just now."
        raise Conflict(message, details=[{"field": "name", "problem": message}]) from None
