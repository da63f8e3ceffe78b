"""Which of a store's orders a shopper's words name, by the numbers the store has.

A store's numbers are the built-in store's ("LP10231"), Shopify's ("#1001") or another
shop's ("A-1001"); shoppers write them their own way (domain/order_numbers.py). The
store's latest numbers say how it writes them, and the numbers a message names are
looked up in every likely spelling at once, in the store's orders only. What is found
is never shown before the shopper proves the order theirs (agent/flows.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from portside.domain.order_numbers import (
    OrderRef,
    find_order_refs,
    number_shapes,
    pick_order,
    spellings,
)
from portside.storage import order_store

# How many of the store's latest numbers show how it writes them.
RECENT_NUMBERS = 50


def find_named_order(
    conn: Connection, store_id: int, refs: list[OrderRef]
) -> tuple[str | None, dict[str, Any] | None]:
    """The store's number and order of the first ref it has an order of; else the
    first ref that is surely an order number, as written, and None; else (None, None)."""
    if not refs:
        return None, None
    return _find(conn, store_id, refs, _shapes(conn, store_id))


def find_named_orders(
    conn: Connection, store_id: int, names: list[str]
) -> dict[str, dict[str, Any] | None]:
    """The orders a conversation named, first named first, each once, by the store's
    number: None for a number the store has no order of, kept only when it is surely
    an order number ("#55555")."""
    named: dict[str, dict[str, Any] | None] = {}
    for number, order in resolve_names(conn, store_id, names):
        if number is not None and number not in named:
            named[number] = order
    return named


def resolve_names(
    conn: Connection, store_id: int, names: list[str]
) -> list[tuple[str | None, dict[str, Any] | None]]:
    """For each name of an order (the store's number, or a number as a shopper wrote
    it: "#10231", "LP10231"), the store's number and order as `find_named_order`
    gives them."""
    exact = order_store.find_orders_by_numbers(conn, store_id, names)
    shapes: list[tuple[str, str]] | None = None
    resolved: list[tuple[str | None, dict[str, Any] | None]] = []
    for name in names:
        if name in exact:
            resolved.append((name, exact[name]))
            continue
        shapes = _shapes(conn, store_id) if shapes is None else shapes
        resolved.append(_find(conn, store_id, find_order_refs(name, bare=False), shapes))
    return resolved


def _shapes(conn: Connection, store_id: int) -> list[tuple[str, str]]:
    return number_shapes(order_store.list_recent_numbers(conn, store_id, RECENT_NUMBERS))


def _find(
    conn: Connection, store_id: int, refs: list[OrderRef], shapes: list[tuple[str, str]]
) -> tuple[str | None, dict[str, Any] | None]:
    spelled = list(dict.fromkeys(s for ref in refs for s in spellings(ref, shapes)))
    found = order_store.find_orders_by_numbers(conn, store_id, spelled)
    number, has = pick_order(refs, shapes, found)
    return number, found[number] if has and number is not None else None
