"""A store's own settings, by section: its LLM provider (`llm`), when the bot hands
over (`handoff`), and where it ships, at what rates (`shipping`, commerce/shipping.py).
Agents read them; a store's admins write them.

Each section is checked whole, and an error names the field it is about. The LLM's API
key is write-only: it is never returned, only whether there is one (`has_api_key`); a
PUT without `api_key` keeps the key the store has, `""` or null removes it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.commerce.shipping import parse_shipping, shipping_to_dict
from portside.errors import Forbidden, NotFound, field_error
from portside.services._sections import (
    check_api_key,
    check_base_url,
    check_bool,
    check_known,
    read_section,
)
from portside.services.attachments_settings import check_attachments, public_attachments
from portside.services.context import Services
from portside.services.csat import check_csat, read_csat
from portside.services.email_settings import check_email, public_email
from portside.services.engagement_settings import check_engagement, public_engagement
from portside.services.identity import AgentIdentity
from portside.services.media_settings import (
    check_speech,
    check_vision,
    public_speech,
    public_vision,
)
from portside.services.orders_settings import check_orders, public_orders
from portside.services.routing_settings import check_routing, parse_routing, read_routing
from portside.services.sla import check_sla, read_sla
from portside.services.tracking_settings import check_tracking, public_tracking
from portside.services.translation_settings import check_translation, public_translation
from portside.storage import store_store

SECTIONS = (
    "llm",
    "handoff",
    "shipping",
    "routing",
    "sla",
    "csat",
    "email",
    "translation",
    "orders",
    "tracking",
    "engagement",
    "speech",
    "vision",
    "attachments",
)

# The shopper waits for the LLM: at most this long, and not less than a call can take.
MIN_TIMEOUT_MS = 200
MAX_TIMEOUT_MS = 2500
DEFAULT_TIMEOUT_MS = 2000
MAX_MODEL = 200


@dataclass(frozen=True)
class LlmSettings:
    """A store's OpenAI-compatible endpoint. Off unless enabled with a URL and model."""

    enabled: bool = False
    base_url: str = ""
    model: str = ""
    api_key: str | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    translate: bool = False

    @property
    def usable(self) -> bool:
        return self.enabled and bool(self.base_url) and bool(self.model)


@dataclass(frozen=True)
class HandoffSettings:
    # A refund asked for an order whose total is above this goes to a person.
    refund_above: float | None = None


async def get_settings(svc: Services, agent: AgentIdentity, section: str) -> dict[str, Any]:
    """A section as the console shows it (no secrets), for any agent of the store."""
    _check_section(section)
    raw = await svc.db.read(
        lambda conn: store_store.find_settings_section(conn, agent.store_id, section)
    )
    return _public(section, raw or {})


async def do_put_settings(
    svc: Services, agent: AgentIdentity, section: str, body: object
) -> dict[str, Any]:
    """Replace a section with `body`, checked; admins only."""
    _check_section(section)
    if agent.role != "admin":
        raise Forbidden(f"Only a store's admins can change its {section} settings.")
    if not isinstance(body, dict):
        raise field_error("body", f"The {section} settings are a JSON object.")

    def put(conn: Connection) -> dict[str, Any]:
        old = store_store.find_settings_section(conn, agent.store_id, section, lock=True)
        value = _CHECKS[section](body, old or {})
        if not store_store.write_settings_section(conn, agent.store_id, section, value):
            raise NotFound("This store does not exist.")
        return value

    value = await svc.db.write(put)
    # The welcome carries some sections (attachments): this node's widgets see the
    # change at once, other nodes' within store_keys.CACHE_S.
    svc.store_keys.forget(agent.store_id)
    return _public(section, value)


def read_llm(settings: Mapping[str, Any] | None) -> LlmSettings:
    """The `llm` section of a store's stored settings (checked when written). Anything
    unreadable counts as no LLM: the bot then answers as it does without one."""
    return read_section(settings, "llm", check_llm, LlmSettings)


def read_handoff(settings: Mapping[str, Any] | None) -> HandoffSettings:
    return read_section(settings, "handoff", check_handoff, HandoffSettings)


def check_llm(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    check_known(body, ("enabled", "base_url", "model", "api_key", "timeout_ms", "translate"))
    enabled = check_bool(body, "enabled")
    translate = check_bool(body, "translate")
    base_url = check_base_url(body.get("base_url"))
    model = _text(body, "model", MAX_MODEL)
    timeout_ms = body.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    if (
        not isinstance(timeout_ms, int)
        or isinstance(timeout_ms, bool)
        or not MIN_TIMEOUT_MS <= timeout_ms <= MAX_TIMEOUT_MS
    ):
        raise field_error(
            "timeout_ms",
            f"timeout_ms is a whole number of milliseconds from {MIN_TIMEOUT_MS} to "
            f"{MAX_TIMEOUT_MS}, not {timeout_ms!r}.",
        )
    if "api_key" in body:
        api_key = check_api_key(body["api_key"])
    else:
        kept = old.get("api_key")
        api_key = kept if isinstance(kept, str) and kept else None
    if enabled and not base_url:
        raise field_error("base_url", "An enabled LLM needs its base_url, like https://host/v1.")
    if enabled and not model:
        raise field_error("model", "An enabled LLM needs the name of its model.")
    return {
        "enabled": enabled,
        "base_url": base_url,
        "model": model,
        "api_key": api_key,
        "timeout_ms": timeout_ms,
        "translate": translate,
    }


def check_handoff(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    del old  # nothing is kept from before
    check_known(body, ("refund_above",))
    limit = body.get("refund_above")
    if limit is not None and (
        not isinstance(limit, int | float)
        or isinstance(limit, bool)
        or not math.isfinite(limit)
        or limit < 0
    ):
        raise field_error(
            "refund_above",
            f"refund_above is an order total (a number, 0 or more) or null, not {limit!r}.",
        )
    return {"refund_above": limit}


_CHECKS: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]] = {
    "llm": check_llm,
    "handoff": check_handoff,
    "shipping": lambda body, _old: shipping_to_dict(parse_shipping(body)),
    "routing": check_routing,
    "sla": check_sla,
    "csat": check_csat,
    "email": check_email,
    "translation": check_translation,
    "orders": check_orders,
    "tracking": check_tracking,
    "engagement": check_engagement,
    "speech": check_speech,
    "vision": check_vision,
    "attachments": check_attachments,
}


def _public(section: str, value: Mapping[str, Any]) -> dict[str, Any]:
    if section == "llm":
        settings = read_llm({"llm": value})
        return {
            "enabled": settings.enabled,
            "base_url": settings.base_url,
            "model": settings.model,
            "has_api_key": settings.api_key is not None,
            "timeout_ms": settings.timeout_ms,
            "translate": settings.translate,
        }
    if section == "email":
        return public_email(value)
    if section == "translation":
        return public_translation(value)
    if section == "orders":
        return public_orders(value)
    if section == "tracking":
        return public_tracking(value)
    if section == "engagement":
        return public_engagement(value)
    if section == "attachments":
        return public_attachments(value)
    if section == "speech":
        return public_speech(value)
    if section == "vision":
        return public_vision(value)
    if section == "csat":
        return {"enabled": read_csat({"csat": value}).enabled}
    if section == "shipping":
        # Stored as checked; a store that has none yet shows an empty list of zones.
        return dict(value) if value else {"currency": None, "free_over": None, "zones": []}
    if section == "routing":
        return read_routing({"routing": value}).raw or parse_routing({}).raw
    if section == "sla":
        return dataclasses.asdict(read_sla({"sla": value}))
    return {"refund_above": read_handoff({"handoff": value}).refund_above}


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise NotFound(
            f"There are no settings {section!r}; the sections are {', '.join(SECTIONS)}."
        )


def _text(body: Mapping[str, Any], field: str, limit: int) -> str:
    value = body.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > limit or not value.isprintable():
        raise field_error(field, f"{field} is text of at most {limit} characters on one line.")
    return value.strip()
