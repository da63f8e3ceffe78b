"""An order as a webhook tells it, whatever the shop (commerce/shopify.py,
commerce/order_json.py), and how a delivery changes the order already stored.

Deliveries come in any order and more than once: an `orders/paid` may arrive before its
`orders/create`, and an old `orders/create` after the cancellation. So the status only
ever moves forward (placed, then paid, then cancelled) and a time once known is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from portside.errors import field_error

STATUSES = ("placed", "paid", "cancelled")
SOURCES = ("demo", "shopify", "api")
_RANK = {status: rank for rank, status in enumerate(STATUSES)}
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_NUMBER = 64
MAX_COUPON = 64
MAX_CENTS = 10**15


@dataclass(frozen=True)
class IncomingOrder:
    """One delivery's order. `data` is the order as the AI agent reads it
    (commerce/orders.py); `visitor_ref` the widget's visitor id the shop passed on
    (`portside_visitor`), as given."""

    source: str
    number: str
    status: str
    placed_at: datetime
    total_cents: int
    currency: str
    data: dict[str, Any]
    external_id: str | None = None
    email: str | None = None
    customer_id: str | None = None
    visitor_ref: str | None = None
    coupons: tuple[str, ...] = ()
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class StoredOrder:
    """What is kept of an order between deliveries (its row's columns)."""

    id: int
    status: str
    placed_at: datetime
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    visitor_id: int | None = None


def merged_columns(old: StoredOrder | None, new: IncomingOrder, *, now: datetime) -> dict[str, Any]:
    """The order row's columns after `new` was delivered, over `old` (None: the first)."""
    status = new.status
    placed_at, paid_at, cancelled_at = new.placed_at, new.paid_at, new.cancelled_at
    if old is not None:
        if _RANK.get(old.status, 0) > _RANK[status]:
            status = old.status
        placed_at = old.placed_at
        paid_at = old.paid_at or paid_at
        cancelled_at = old.cancelled_at or cancelled_at
    data = dict(new.data)
    if status == "cancelled":
        cancelled_at = cancelled_at or now
        # What the agent tells the shopper: an old delivery must not undo a cancellation.
        data["status"] = "cancelled"
        data.setdefault("cancelled_on", cancelled_at.date().isoformat())
    return {
        "number": new.number,
        "data": data,
        "source": new.source,
        "external_id": new.external_id,
        "customer_id": new.customer_id,
        "email": new.email,
        "status": status,
        "total_cents": new.total_cents,
        "currency": new.currency,
        "coupon": new.coupons[0] if new.coupons else None,
        "placed_at": placed_at,
        "paid_at": paid_at,
        "cancelled_at": cancelled_at,
        "updated_at": now,
    }


def cents(value: object, field_name: str) -> int:
    """An amount ("199.00", 199, 199.5) in hundredths, whatever the currency."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise field_error(field_name, f'{field_name} is an amount like "199.00", not {value!r}.')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise field_error(
            field_name, f'{field_name} is an amount like "199.00", not {value!r}.'
        ) from None
    if not amount.is_finite() or amount < 0 or amount * 100 >= MAX_CENTS:
        raise field_error(field_name, f"{field_name} is an amount of 0 or more, not {value!r}.")
    return int((amount * 100).to_integral_value())


def money_text(value_cents: int) -> str:
    """Hundredths as the order's `total` string ("199.00")."""
    return f"{Decimal(value_cents) / 100:.2f}"


def currency(value: object, field_name: str = "currency") -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip().upper()):
        raise field_error(field_name, f"{field_name} is an ISO 4217 code like EUR, not {value!r}.")
    return value.strip().upper()


def timestamp(value: object, field_name: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 time with its offset ("2026-12-05T10:15:00-05:00"), or None."""
    if value is None or value == "":
        if required:
            raise field_error(field_name, f"{field_name} is required: an ISO 8601 time.")
        return None
    problem = f"{field_name} is an ISO 8601 time with its offset, like 2026-12-05T10:15:00Z"
    if not isinstance(value, str) or len(value) > 40:
        raise field_error(field_name, f"{problem}, not {value!r}.")
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise field_error(field_name, f"{problem}, not {value!r}.") from None
    if at.tzinfo is None:
        raise field_error(field_name, f"{problem}: this one has no offset.")
    return at


def order_number(value: object, field_name: str = "number") -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NUMBER:
        raise field_error(
            field_name, f"{field_name} is the order's number, 1 to {MAX_NUMBER} characters."
        )
    if not value.strip().isprintable():
        raise field_error(field_name, f"{field_name} is text on one line.")
    return value.strip()


def optional_text(value: object, limit: int) -> str | None:
    """Text from a payload, trimmed, or None when it is absent or not usable."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value and value.isprintable() else None


def coupon_codes(values: object) -> tuple[str, ...]:
    """The distinct usable codes of a list, in order."""
    if not isinstance(values, list | tuple):
        return ()
    codes = (optional_text(v, MAX_COUPON + 1) for v in values)
    return tuple(dict.fromkeys(c for c in codes if c and len(c) <= MAX_COUPON))
