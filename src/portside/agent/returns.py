"""The return or exchange flow, once the shopper has proved the order theirs.

It checks the order can be returned (delivered, within the returns window), asks which
item when the order has several, why, and whether the shopper wants a refund or an
exchange (and for which size, among those in stock); then it opens a case for the
store's team (`services/bot.py`) and hands the conversation to them with it. The
shopper's own words about the reason go into the case as they wrote them.

Photos sent in the flow leave notes in its state (`photo`, and `photo_reason` when the
store's vision provider saw a damaged or wrong item): a photo's reason stands when the
shopper gives none in words, and a shopper who sent one is not asked for one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from portside.agent.replies import Replies
from portside.agent.steps import MOVING, Step, clean, day_text, first_choice, mentions

RETURN = "return_request"
# Days after delivery a return is accepted (the demo store's policy says 30).
RETURN_DAYS = 30
# Reasons whose proof is a photo: the bot asks for one.
EVIDENCE = frozenset({"damaged", "wrong_item", "not_as_described"})
OPEN_CASE = "open_case"
MAX_WORDS = 500
# What photos sent in the flow leave in its state, whatever step it is at.
PHOTO_NOTES = ("photo", "photo_reason")
_NUMBER = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")


def start_return(
    replies: Replies,
    lang: str,
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
    today: date | None,
    notes: Mapping[str, Any] | None = None,
) -> Step:
    """The first step after the proof: can this order be returned, and what next.
    `notes`: what photos sent so far left in the flow (`PHOTO_NOTES`)."""
    number = order["number"]
    status = order["status"]
    if status == "cancelled":
        return Step(replies.say(lang, "already_cancelled", order=number), None, verified=number)
    if status == "processing":
        text = replies.say(lang, "return_not_shipped", order=number)
        return Step(text, None, verified=number)
    if status in MOVING:
        text = replies.say(lang, "return_on_its_way", order=number, days=str(RETURN_DAYS))
        return Step(text, None, verified=number)
    delivered = order.get("delivered_on")
    if delivered and today and (today - date.fromisoformat(delivered)).days > RETURN_DAYS:
        text = replies.say(
            lang,
            "return_window_passed",
            order=number,
            date=day_text(delivered, lang),
            days=str(RETURN_DAYS),
        )
        return Step(text, None, handoff="return_window", verified=number)
    items = list(order.get("items") or [])
    state: dict[str, Any] = {
        "name": RETURN,
        "order": number,
        "verified": True,
        **photo_notes(notes or {}),
    }
    if len(items) > 1:
        state["step"] = "item"
        text = replies.say(lang, "return_which_item", items=_listed(replies, lang, items, products))
        return Step(text, state, verified=number)
    state.update(step="reason", item=0)
    if state.get("photo_reason"):
        # The photo already says why.
        step = _reason(replies, lang, "", state, order, products, words=False)
        return Step(step.text, step.flow, verified=number)
    text = replies.say(lang, "return_ask_reason", item=_item_name(lang, order, 0, products))
    return Step(text, state, verified=number)


def return_step(
    replies: Replies,
    lang: str,
    text: str,
    state: dict[str, Any],
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
) -> Step:
    """The shopper's answer to the flow's last question, and the next one."""
    items = list(order.get("items") or [])
    step = state.get("step")
    if step == "item":
        index = pick_item(text, items, products)
        if index is None:
            listed = _listed(replies, lang, items, products)
            return Step(replies.say(lang, "return_which_item_again", items=listed), state)
        state = {**state, "item": index, "step": "reason"}
        name = _item_name(lang, order, index, products)
        # "the dress, it's too small" answers two questions at once; so does a photo.
        said = first_choice(replies, lang, text, "return_reasons")
        if said is None and not state.get("photo_reason"):
            return Step(replies.say(lang, "return_ask_reason", item=name), state)
        return _reason(replies, lang, text, state, order, products, words=said is not None)
    if step == "reason":
        return _reason(replies, lang, text, state, order, products)
    if step == "resolution":
        wants = first_choice(replies, lang, text, "resolutions")
        if wants is None:
            return Step(replies.say(lang, "return_ask_resolution_again"), state)
        return _resolved(replies, lang, text, state, wants, order, products)
    # step == "size"
    sizes = other_sizes(order, int(state.get("item") or 0), products)
    size = pick_size(text, sizes)
    if size is None:
        return Step(replies.say(lang, "return_ask_size_again", sizes=", ".join(sizes)), state)
    return _open(replies, lang, {**state, "exchange_for": {"size": size}}, order, products)


def photo_notes(state: Mapping[str, Any]) -> dict[str, Any]:
    """What photos left in a return flow's state (`PHOTO_NOTES`)."""
    return {key: state[key] for key in PHOTO_NOTES if state.get(key)}


def note_photo(state: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """A return flow's state once a photo was sent in it: the shopper need not be asked
    for one, and the reason the photo shows stands until they give one in words."""
    noted = {**state, "photo": True}
    if reason and not state.get("reason"):
        noted["photo_reason"] = reason
    return noted


def pick_item(
    text: str, items: list[dict[str, Any]], products: dict[str, dict[str, Any]]
) -> int | None:
    """Which of the order's items the answer names: by its number in the list, or by
    its name (in any language the catalogue has it in); None if unclear."""
    numbers = {int(n) for n in _NUMBER.findall(text)}
    chosen = {n - 1 for n in numbers if 1 <= n <= len(items)}
    if len(chosen) == 1:
        return chosen.pop()
    cleaned = clean(text)
    scores = []
    for item in items:
        product = products.get(str(item.get("slug"))) or {}
        names = [str(item.get("name", "")), *(product.get("names") or {}).values()]
        scores.append(max(_overlap(cleaned, clean(name)) for name in names))
    best = max(scores, default=0)
    if best == 0 or scores.count(best) > 1:
        return None
    return scores.index(best)


def other_sizes(
    order: dict[str, Any], index: int, products: dict[str, dict[str, Any]]
) -> list[str]:
    """The sizes the item could be exchanged for: in stock, in its colour, not its own."""
    item = (order.get("items") or [{}])[index]
    product = products.get(str(item.get("slug"))) or {}
    in_stock = {
        str(v["size"])
        for v in product.get("variants") or []
        if v.get("stock", 0) > 0
        and v.get("size")
        and str(v.get("color", "")).lower() == str(item.get("color", "")).lower()
    }
    return [s for s in product.get("sizes") or [] if s in in_stock and s != item.get("size")]


def pick_size(text: str, sizes: list[str]) -> str | None:
    """The one size of `sizes` the answer names ("L", "una L", "换L码", "size 38")."""
    upper = re.sub(r"(?<=\w)['’](?=\w)", "", text).upper()
    found = [
        size
        for size in sizes
        if re.search(rf"(?<![A-Z0-9]){re.escape(size.upper())}(?![A-Z0-9])", upper)
    ]
    return found[0] if len(found) == 1 else None


def _reason(
    replies: Replies,
    lang: str,
    text: str,
    state: dict[str, Any],
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
    *,
    words: bool = True,
) -> Step:
    """Why, from the shopper's answer, else from their photo (`photo_reason`); then
    refund or exchange. With `words`, the answer is kept as the shopper's words."""
    said = first_choice(replies, lang, text, "return_reasons")
    seen = None if said else state.get("photo_reason")
    kept = " ".join(text.split())[:MAX_WORDS] if words else ""
    state = {
        **state,
        "reason": said or seen or "other",
        "words": kept or state.get("words") or None,
        "step": "resolution",
    }
    if seen:
        state["reason_by"] = "photo"
    wants = first_choice(replies, lang, text, "resolutions")
    if wants is not None:
        return _resolved(replies, lang, text, state, wants, order, products)
    if seen:
        return Step(replies.phrase(lang, "return_reason_from_photo", str(seen)), state)
    return Step(replies.say(lang, "return_ask_resolution"), state)


def _resolved(
    replies: Replies,
    lang: str,
    text: str,
    state: dict[str, Any],
    wants: str,
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
) -> Step:
    state = {**state, "resolution": wants}
    if wants != "exchange":
        return _open(replies, lang, state, order, products)
    sizes = other_sizes(order, int(state.get("item") or 0), products)
    if not sizes:
        # Nothing else in stock (or one size only): the team finds what can be done.
        return _open(replies, lang, state, order, products)
    size = pick_size(text, sizes)
    if size is not None:
        return _open(replies, lang, {**state, "exchange_for": {"size": size}}, order, products)
    text_out = replies.say(lang, "return_ask_size", sizes=", ".join(sizes))
    return Step(text_out, {**state, "step": "size"})


def _open(
    replies: Replies,
    lang: str,
    state: dict[str, Any],
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
) -> Step:
    """The case for the team, and the reply that says it is open (`{case}` is its
    number, filled in when it is written)."""
    index = int(state.get("item") or 0)
    items = list(order.get("items") or [])
    item = items[index] if items else {}
    exchange_for = state.get("exchange_for")
    resolution = str(state.get("resolution") or "refund")
    if resolution == "exchange" and exchange_for:
        what = replies.say(lang, "resolution_exchange_size", size=str(exchange_for["size"]))
    else:
        what = replies.phrase(lang, "resolution_names", resolution)
    text = replies.say(
        lang,
        "return_opened",
        case="{case}",
        item=_item_name(lang, order, index, products),
        order=order["number"],
        resolution=what,
    )
    reason = str(state.get("reason") or "other")
    if reason in EVIDENCE and not state.get("photo"):
        text += " " + replies.say(lang, "return_photo")
    case = {
        "kind": "exchange" if resolution == "exchange" else "return",
        "data": {
            "order": order["number"],
            "items": [
                {
                    "sku": _sku(item, products),
                    "slug": item.get("slug"),
                    "name": item.get("name"),
                    "size": item.get("size"),
                    "color": item.get("color"),
                    "quantity": item.get("quantity", 1),
                }
            ]
            if item
            else [],
            "reason": reason,
            **({"reason_by": "photo"} if state.get("reason_by") == "photo" else {}),
            "resolution": resolution,
            "exchange_for": exchange_for,
            "photos": [],
            "words": state.get("words"),
            "language": lang,
        },
    }
    return Step(text, None, handoff="case_opened", action=OPEN_CASE, payload=case)


def _sku(item: dict[str, Any], products: dict[str, dict[str, Any]]) -> str | None:
    product = products.get(str(item.get("slug"))) or {}
    for variant in product.get("variants") or []:
        if variant.get("size") == item.get("size") and str(variant.get("color", "")).lower() == (
            str(item.get("color", "")).lower()
        ):
            return str(variant["sku"])
    return None


def _item_name(
    lang: str, order: dict[str, Any], index: int, products: dict[str, dict[str, Any]]
) -> str:
    items = list(order.get("items") or [])
    if not items:
        return str(order["number"])
    item = items[index]
    product = products.get(str(item.get("slug"))) or {}
    return str((product.get("names") or {}).get(lang) or item.get("name") or item.get("slug"))


def _listed(
    replies: Replies, lang: str, items: list[dict[str, Any]], products: dict[str, dict[str, Any]]
) -> str:
    order = {"number": "", "items": items}
    lines = []
    for index, item in enumerate(items):
        details = ", ".join(str(v) for v in (item.get("size"), item.get("color")) if v)
        name = _item_name(lang, order, index, products)
        lines.append(f"{index + 1}. {name}" + (f" ({details})" if details else ""))
    return "\n".join(lines)


def _overlap(said: str, name: str) -> int:
    """How much of an item's name the answer has: shared words, or for names written
    without spaces, shared characters two by two."""
    if " " in name or name.isascii():
        words = {w for w in name.split() if len(w) > 2}
        return sum(mentions(said, w) is not None for w in words)
    pairs = {name[i : i + 2] for i in range(len(name) - 1)}
    return sum(pair in said for pair in pairs)
