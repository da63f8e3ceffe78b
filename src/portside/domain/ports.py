"""The interfaces adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from portside.domain.translation import LanguagePair

BusHandler = Callable[[str, dict[str, Any]], None]


class Subscription(Protocol):
    def close(self) -> None: ...


class EventBus(Protocol):
    """Fan-out of committed events (and ephemeral signals such as typing) to every node.

    Messages are JSON-ready dicts. Delivery to a subscriber keeps the order of publishes
    made by one publisher; anything missed is recovered from the database by `seq`.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: BusHandler) -> Subscription: ...

    async def flush(self) -> None:
        """Wait until every `subscribe` and `close` made so far is in effect.

        A publish made after `flush` returns reaches the new subscribers (and no longer
        the closed ones), on this node and on every other.
        """
        ...


class Translator(Protocol):
    """Machine translation by one provider (ai/translation.py, ai/argos.py)."""

    @property
    def provider(self) -> str:
        """ "llm" or "argos": stored with each translation."""
        ...

    def pairs(self) -> list[LanguagePair] | None:
        """The language pairs it translates; None when any pair (an LLM)."""
        ...

    async def translate(self, text: str, *, source: str, target: str) -> str:
        """`text` in `target`, checked by domain/grounding.py. Raises TranslationFailed
        (domain/translation.py); the caller bounds the time it may take."""
        ...


@dataclass(frozen=True)
class LlmEndpoint:
    """A store's OpenAI-compatible endpoint, as the translator needs it."""

    base_url: str
    model: str
    api_key: str | None
    timeout_s: float


class Translators(Protocol):
    """The translators this server can offer a store (the composition root picks them)."""

    def llm(self, endpoint: LlmEndpoint) -> Translator: ...

    async def argos(self) -> Translator:
        """The server's Argos Translate, ready; raises TranslationFailed (NOT_SET_UP)
        saying why there is none (not installed, no language packages)."""
        ...

    async def aclose(self) -> None: ...


class ChatModel(Protocol):
    """The port to an LLM: one chat completion (ai/llm.py implements it)."""

    async def complete(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        messages: Sequence[Mapping[str, str]],
        timeout_s: float,
        max_tokens: int = 400,
    ) -> str: ...

    async def aclose(self) -> None: ...
