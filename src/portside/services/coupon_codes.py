"""The codes of a coupon pool: generated from its pattern, imported from CSV, listed.

Codes are unique in a store (a shopper types one at checkout, whatever pool it is in).
An import is all or nothing: one wrong line and nothing is stored, and every wrong line
is named. A generation adds its codes in batches of BATCH, each its own transaction, so
that a big one never holds the database's writer for long (on SQLite that is the event
loop itself).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import format_time
from portside.domain.coupons import LineProblem, Pattern, check_pattern, check_room, parse_code_csv
from portside.errors import Conflict, ImportInvalid, InvalidRequest, NotFound, field_error
from portside.services.context import Services
from portside.services.coupons import check_manager, read_pool
from portside.services.identity import AgentIdentity
from portside.storage import coupon_store

MAX_CODES_PER_CALL = 100_000
BATCH = 2_000
# Fresh draws for codes that collided with existing ones, per batch; with the pattern's
# room checked first, a second round is already rare.
ROUNDS = 10
MAX_PROBLEMS_SHOWN = 100
MAX_PAGE = 1_000


async def do_generate_codes(
    svc: Services, agent: AgentIdentity, pool_id: int, count: object
) -> dict[str, Any]:
    """Add `count` codes made from the pool's pattern; the pool, with its new counts."""
    check_manager(agent)
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not 1 <= count <= MAX_CODES_PER_CALL
    ):
        raise field_error(
            "count", f"count is how many codes to make, 1 to {MAX_CODES_PER_CALL:,} at a time."
        )
    pattern = await svc.db.read(
        lambda conn: _pattern_with_room(conn, agent.store_id, pool_id, count)
    )
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        now = svc.clock.now()
        add = functools.partial(
            _add_generated,
            drawn=_draw(pattern, size),
            store_id=agent.store_id,
            pool_id=pool_id,
            pattern=pattern,
            size=size,
            now=now,
        )
        try:
            made += await svc.db.write(add)
        except IntegrityError:
            # Another generation or import of the store wrote one of these codes between
            # our check and our insert; this batch is not stored, those before it are.
            raise Conflict(
                f"Another change to this store's codes came in at the same time; {made:,} of "
                f"the {count:,} codes were made. Generate the rest again."
            ) from None
    pool = await svc.db.read(lambda conn: read_pool(conn, agent.store_id, pool_id))
    return {"generated": made, "pool": pool}


def _pattern_with_room(conn: Connection, store_id: int, pool_id: int, count: int) -> Pattern:
    row = coupon_store.find_pool(conn, store_id, pool_id)
    if row is None:
        raise NotFound("There is no such coupon pool.")
    if row.pattern is None:
        raise field_error(
            "pattern",
            "This pool has no pattern to make codes from: set one (like WELCOME-{XXXXXX}) "
            "or import its codes.",
        )
    pattern = check_pattern(row.pattern)
    check_room(
        pattern, existing=coupon_store.count_pool_codes(conn, store_id, pool_id), count=count
    )
    return pattern


def _add_generated(
    conn: Connection,
    *,
    store_id: int,
    pool_id: int,
    pattern: Pattern,
    drawn: set[str],
    size: int,
    now: datetime,
) -> int:
    """Store `size` new codes: those `drawn` the store does not have yet, and fresh
    draws for the rest."""
    if coupon_store.find_pool(conn, store_id, pool_id) is None:
        raise NotFound("The coupon pool was deleted while its codes were being made.")
    fresh: set[str] = set()
    for _ in range(ROUNDS):
        taken = coupon_store.find_taken_codes(conn, store_id, sorted(drawn))
        fresh |= drawn - taken.keys()
        if len(fresh) >= size:
            return coupon_store.insert_codes(
                conn, store_id=store_id, pool_id=pool_id, codes=sorted(fresh)[:size], now=now
            )
        drawn = _draw(pattern, size - len(fresh)) - fresh
    raise Conflict(
        f"The pattern {pattern.text} keeps making codes the store already has; add random "
        "characters to it."
    )


def _draw(pattern: Pattern, size: int) -> set[str]:
    """`size` different codes (a draw twice is drawn again)."""
    drawn: set[str] = set()
    while len(drawn) < size:
        drawn.update(pattern.make() for _ in range(size - len(drawn)))
    return drawn


async def do_import_codes(
    svc: Services, agent: AgentIdentity, pool_id: int, text: str
) -> dict[str, Any]:
    """Add the codes of a CSV file (one a line, optional header "code") to the pool,
    all of them or, if a line is wrong, none."""
    check_manager(agent)
    lines, problems = parse_code_csv(text)
    if not lines and not problems:
        raise InvalidRequest("The file has no codes: put one code on each line.")
    if len(lines) > MAX_CODES_PER_CALL:
        raise InvalidRequest(
            f"The file has {len(lines):,} codes; import at most {MAX_CODES_PER_CALL:,} at a time."
        )
    now = svc.clock.now()

    def store_codes(conn: Connection) -> int:
        pools = {row.id: row.name for row in coupon_store.list_pools(conn, agent.store_id)}
        if pool_id not in pools:
            raise NotFound("There is no such coupon pool.")
        taken = coupon_store.find_taken_codes(conn, agent.store_id, [line.code for line in lines])
        for line in lines:
            if line.code in taken:
                where = (
                    "this pool"
                    if taken[line.code] == pool_id
                    else f"the pool {pools[taken[line.code]]!r}"
                )
                problems.append(LineProblem(line.line, f"{line.code} is already in {where}."))
        if problems:
            raise _import_refused(problems)
        return coupon_store.insert_codes(
            conn,
            store_id=agent.store_id,
            pool_id=pool_id,
            codes=[line.code for line in lines],
            now=now,
        )

    try:
        imported = await svc.db.write(store_codes)
    except IntegrityError:
        raise Conflict(
            "Another change to this store's codes came in at the same time; nothing was "
            "imported. Import the file again."
        ) from None
    pool = await svc.db.read(lambda conn: read_pool(conn, agent.store_id, pool_id))
    return {"imported": imported, "pool": pool}


def _import_refused(problems: list[LineProblem]) -> ImportInvalid:
    problems.sort(key=lambda problem: problem.line)
    first = problems[0]
    lines = "line" if len(problems) == 1 else "lines"
    return ImportInvalid(
        f"{len(problems):,} {lines} of the file are wrong, so nothing was imported; "
        f"line {first.line}: {first.problem}",
        details=[problem.to_dict() for problem in problems[:MAX_PROBLEMS_SHOWN]],
    )


def code_to_dict(row: Any) -> dict[str, Any]:
    status = (
        "free" if row.issued_at is None else "issued" if row.redeemed_at is None else "redeemed"
    )
    return {
        "id": row.id,
        "code": row.code,
        "status": status,
        "visitor_id": row.visitor_id,
        "trigger_id": row.trigger_id,
        "issued_at": format_time(row.issued_at) if row.issued_at else None,
        "order_id": row.order_id,
        "redeemed_at": format_time(row.redeemed_at) if row.redeemed_at else None,
        "created_at": format_time(row.created_at),
    }


async def list_codes(
    svc: Services,
    agent: AgentIdentity,
    pool_id: int,
    *,
    status: str | None,
    limit: int,
    after: int | None,
) -> dict[str, Any]:
    """A page of the pool's codes by id; `next` is the `after` of the next page."""
    if status is not None and status not in coupon_store.STATUSES:
        raise field_error("status", "status is free, issued or redeemed.")
    if not 1 <= limit <= MAX_PAGE:
        raise field_error("limit", f"limit is 1 to {MAX_PAGE}.")

    def read(conn: Connection) -> list[Any]:
        if coupon_store.find_pool(conn, agent.store_id, pool_id) is None:
            raise NotFound("There is no such coupon pool.")
        return coupon_store.list_codes(
            conn, agent.store_id, pool_id, status=status, limit=limit, after=after
        )

    rows = await svc.db.read(read)
    return {
        "codes": [code_to_dict(row) for row in rows],
        "next": rows[-1].id if len(rows) == limit else None,
    }
