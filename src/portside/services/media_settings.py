"""A store's `speech` and `vision` settings: who transcribes its shoppers' voice notes
and who describes their photos (services/settings.py registers the sections; the AI
agent uses them, agent/media.py).

`speech`: `enabled`; `provider` "endpoint" (any OpenAI-compatible `/audio/transcriptions`:
`base_url`, `model`, `api_key`) or "faster_whisper" (the model its operator put on this
server, PORTSIDE_WHISPER_MODEL_DIR); `timeout_ms` 1000-60000 (15000); and
`show_transcript_to_shopper` (false: only agents see it).
`vision`: `enabled`, `base_url`, `model`, `api_key`, `timeout_ms` 1000-60000 (10000).
API keys are write-only, as the `llm` section's: a PUT without `api_key` keeps the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portside.domain.ports import MediaEndpoint
from portside.errors import field_error
from portside.services._sections import (
    check_api_key,
    check_base_url,
    check_bool,
    check_known,
    read_section,
)
from portside.services.context import Services
from portside.storage import store_store

SPEECH_PROVIDERS = ("endpoint", "faster_whisper")
MIN_TIMEOUT_MS = 1000
MAX_TIMEOUT_MS = 60_000
SPEECH_TIMEOUT_MS = 15_000
VISION_TIMEOUT_MS = 10_000
MAX_MODEL = 200


@dataclass(frozen=True)
class SpeechSettings:
    enabled: bool = False
    provider: str = "endpoint"
    base_url: str = ""
    model: str = ""
    api_key: str | None = None
    timeout_ms: int = SPEECH_TIMEOUT_MS
    show_transcript_to_shopper: bool = False

    @property
    def endpoint(self) -> MediaEndpoint:
        return MediaEndpoint(self.base_url, self.model, self.api_key, self.timeout_ms / 1000)


@dataclass(frozen=True)
class VisionSettings:
    enabled: bool = False
    base_url: str = ""
    model: str = ""
    api_key: str | None = None
    timeout_ms: int = VISION_TIMEOUT_MS

    @property
    def endpoint(self) -> MediaEndpoint:
        return MediaEndpoint(self.base_url, self.model, self.api_key, self.timeout_ms / 1000)


def read_speech(settings: Mapping[str, Any] | None) -> SpeechSettings:
    """The `speech` section; anything unreadable is no speech-to-text."""
    return read_section(settings, "speech", check_speech, SpeechSettings)


def read_vision(settings: Mapping[str, Any] | None) -> VisionSettings:
    """The `vision` section; anything unreadable is no vision provider."""
    return read_section(settings, "vision", check_vision, VisionSettings)


async def find_store_settings(svc: Services, store_id: int) -> tuple[dict[str, Any], str] | None:
    """A store's settings and its default language (the agents'), or None if it is gone."""
    shop = await svc.db.read(lambda conn: store_store.find_store(conn, store_id))
    if shop is None:
        return None
    return dict(shop.settings or {}), str(shop.default_language)


def check_speech(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    check_known(
        body,
        (
            "enabled",
            "provider",
            "base_url",
            "model",
            "api_key",
            "timeout_ms",
            "show_transcript_to_shopper",
        ),
    )
    provider = body.get("provider", "endpoint")
    if provider not in SPEECH_PROVIDERS:
        raise field_error(
            "provider", f"provider is one of {', '.join(SPEECH_PROVIDERS)}, not {provider!r}."
        )
    value = _endpoint(body, old, SPEECH_TIMEOUT_MS, needs_url=provider == "endpoint")
    return {
        **value,
        "provider": provider,
        "show_transcript_to_shopper": check_bool(body, "show_transcript_to_shopper"),
    }


def check_vision(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    check_known(body, ("enabled", "base_url", "model", "api_key", "timeout_ms"))
    return _endpoint(body, old, VISION_TIMEOUT_MS, needs_url=True)


def public_speech(value: Mapping[str, Any]) -> dict[str, Any]:
    """The section as the console shows it: the key only as `has_api_key`."""
    settings = read_speech({"speech": dict(value)})
    return {
        "enabled": settings.enabled,
        "provider": settings.provider,
        "base_url": settings.base_url,
        "model": settings.model,
        "has_api_key": settings.api_key is not None,
        "timeout_ms": settings.timeout_ms,
        "show_transcript_to_shopper": settings.show_transcript_to_shopper,
    }


def public_vision(value: Mapping[str, Any]) -> dict[str, Any]:
    settings = read_vision({"vision": dict(value)})
    return {
        "enabled": settings.enabled,
        "base_url": settings.base_url,
        "model": settings.model,
        "has_api_key": settings.api_key is not None,
        "timeout_ms": settings.timeout_ms,
    }


def _endpoint(
    body: Mapping[str, Any], old: Mapping[str, Any], default_timeout: int, *, needs_url: bool
) -> dict[str, Any]:
    enabled = check_bool(body, "enabled")
    base_url = check_base_url(body.get("base_url"))
    model = body.get("model") or ""
    if not isinstance(model, str) or len(model.strip()) > MAX_MODEL or not model.isprintable():
        raise field_error("model", f"model is text of at most {MAX_MODEL} characters on one line.")
    timeout_ms = body.get("timeout_ms", default_timeout)
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
    if enabled and needs_url and not base_url:
        raise field_error(
            "base_url", "An enabled provider needs its base_url, like https://host/v1."
        )
    if enabled and needs_url and not model.strip():
        raise field_error("model", "An enabled provider needs the name of its model.")
    return {
        "enabled": enabled,
        "base_url": base_url,
        "model": model.strip(),
        "api_key": api_key,
        "timeout_ms": timeout_ms,
    }
