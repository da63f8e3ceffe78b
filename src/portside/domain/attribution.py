"""What an order is credited to (docs/orders.md#attribution): pure rules over the
buyer's history, which services/attribution.py reads from the database.

1. The buyer is the visitor the shop passed on at checkout (`portside_visitor`, the
   widget's visitor id), else the visitor identified with the order's customer id,
   else the visitor with the order's email, else the visitor the order's coupon was
   handed to.
2. Within the store's window (attribution_window_days) before the order was placed:
   each conversation in which the shopper wrote (kind "conversation"), each trigger
   fire that contacted them (held-out fires never: they are the control group; kind
   "trigger"), and each coupon of ours the order used (kind "coupon", whenever it
   was handed out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("conversation", "trigger", "coupon")
DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 90
MAX_VISITOR_ID = 2**63 - 1


@dataclass(frozen=True)
class ShopperMessage:
    """A message the shopper wrote in one of their conversations."""

    conversation_id: int
    at: datetime


@dataclass(frozen=True)
class Fire:
    """A trigger rule that held for the shopper."""

    fire_id: int
    trigger_id: int
    at: datetime
    held_out: bool
    conversation_id: int | None = None


@dataclass(frozen=True)
class RedeemedCoupon:
    """One of the store's coupon codes the order used."""

    code_id: int
    trigger_id: int | None = None


@dataclass(frozen=True)
class Attribution:
    kind: str
    ref: str
    conversation_id: int | None = None
    trigger_id: int | None = None
    fire_id: int | None = None
    coupon_code_id: int | None = None


def visitor_id_from(ref: str | None) -> int | None:
    """The visitor id in a `portside_visitor` attribute ("123"), or None."""
    if ref is None:
        return None
    text = ref.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_VISITOR_ID else None


def choose_visitor(*candidates: tuple[str, int | None]) -> tuple[int | None, str | None]:
    """The first visitor found, in the order of the rules, and the rule that found it."""
    for how, visitor_id in candidates:
        if visitor_id is not None:
            return visitor_id, how
    return None, None


def window_start(placed_at: datetime, days: int) -> datetime:
    return placed_at - timedelta(days=days)


def attribute(
    *,
    placed_at: datetime,
    window_days: int,
    messages: Iterable[ShopperMessage] = (),
    fires: Iterable[Fire] = (),
    coupons: Iterable[RedeemedCoupon] = (),
) -> list[Attribution]:
    """What the order placed at `placed_at` is credited to, each once: conversations
    first (oldest first), then trigger fires, then coupons."""
    start = window_start(placed_at, window_days)

    def inside(at: datetime) -> bool:
        return start <= at <= placed_at

    found: dict[str, Attribution] = {}
    for message in sorted(messages, key=lambda m: m.at):
        if inside(message.at):
            ref = f"conversation:{message.conversation_id}"
            found.setdefault(
                ref, Attribution("conversation", ref, conversation_id=message.conversation_id)
            )
    for fire in sorted(fires, key=lambda f: f.at):
        if not fire.held_out and inside(fire.at):
            ref = f"trigger:{fire.fire_id}"
            found.setdefault(
                ref,
                Attribution(
                    "trigger",
                    ref,
                    conversation_id=fire.conversation_id,
                    trigger_id=fire.trigger_id,
                    fire_id=fire.fire_id,
                ),
            )
    for coupon in coupons:
        ref = f"coupon:{coupon.code_id}"
        found.setdefault(
            ref,
            Attribution("coupon", ref, trigger_id=coupon.trigger_id, coupon_code_id=coupon.code_id),
        )
    return list(found.values())
