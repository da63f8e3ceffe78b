"""A store's `translation` settings: which translator its agents and shoppers talk
through, and how long an agent waits for one translation (services/settings.py
registers the section; services/translation.py uses it).

- `provider`: "off" (the default), "llm" (the store's LLM, from its `llm` settings) or
  "argos" (Argos Translate on this server, with the packages its operator installed:
  PORTSIDE_ARGOS_PACKAGES, a server setting, not a store's).
- `timeout_ms`: 1000 to 30000, 8000 by default. An agent's reply waits for it, so it may
  be longer than the bot's LLM limit, for which a shopper waits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portside.errors import InvalidRequest
from portside.services._sections import read_section

PROVIDERS = ("off", "llm", "argos")
MIN_TIMEOUT_MS = 1000
MAX_TIMEOUT_MS = 30_000
DEFAULT_TIMEOUT_MS = 8000


@dataclass(frozen=True)
class TranslationSettings:
    provider: str = "off"
    timeout_ms: int = DEFAULT_TIMEOUT_MS


def read_translation(settings: Mapping[str, Any] | None) -> TranslationSettings:
    """The `translation` section of a store's stored settings; anything unreadable is
    translation off (an agent is then told so, never given an untranslated text)."""
    return read_section(settings, "translation", check_translation, TranslationSettings)


def check_translation(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    del old  # nothing is kept from before
    unknown = sorted(str(key) for key in body if key not in ("provider", "timeout_ms"))
    if unknown:
        raise InvalidRequest(
            f"Unknown settings: {', '.join(unknown)}. The known ones are provider, timeout_ms.",
            details=[{"field": key, "problem": "unknown setting"} for key in unknown],
        )
    provider = body.get("provider", "off")
    if provider not in PROVIDERS:
        raise _invalid("provider", f"provider is one of {', '.join(PROVIDERS)}, not {provider!r}.")
    timeout_ms = body.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    if (
        not isinstance(timeout_ms, int)
        or isinstance(timeout_ms, bool)
        or not MIN_TIMEOUT_MS <= timeout_ms <= MAX_TIMEOUT_MS
    ):
        raise _invalid(
            "timeout_ms",
            f"timeout_ms is a whole number of milliseconds from {MIN_TIMEOUT_MS} to "
            f"{MAX_TIMEOUT_MS}, not {timeout_ms!r}.",
        )
    return {"provider": provider, "timeout_ms": timeout_ms}


def public_translation(value: Mapping[str, Any]) -> dict[str, Any]:
    """The section as the console shows it (it has no secrets)."""
    settings = read_translation({"translation": dict(value)})
    return {"provider": settings.provider, "timeout_ms": settings.timeout_ms}


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, details=[{"field": field, "problem": message}])
