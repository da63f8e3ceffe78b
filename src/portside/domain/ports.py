"""The interfaces adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from portside.domain.media import AttachmentLimits, Processed, Sniffed
from portside.domain.translation import LanguagePair

BusHandler = Callable[[str, dict[str, Any]], None]


class Subscription(Protocol):
    def close(self) -> None: ...


class EventBus(Protocol):
    """Fan-out of committed events (and ephemeral signals such as typing) to every node.

    Messages are JSON-ready dicts. Delivery to a subscriber keeps the order of publishes
    made by one publisher; anything missed is recovered from the database by `seq`.
    This node's subscribers hear its own publishes at once, whatever state the link
    between nodes is in.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        """Deliver to the topic's subscribers; with `local`, to this node's only (work
        that the node which stored it does, such as answering a shopper's turn)."""
        ...

    def on_resume(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the link between nodes comes back after a loss,
        once subscriptions are in effect again: what other nodes published meanwhile
        was missed and must be read from the database."""
        ...

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


# What a vision model may recognise in a shopper's photo (docs/agent.md).
IMAGE_LABELS = frozenset({"damaged_item", "wrong_item", "payment_error", "size_label", "other"})


@dataclass(frozen=True)
class Transcript:
    """What a voice note says, the language it was spoken in (ISO 639-1, or None when
    the provider does not tell), and who transcribed it ("openai", "faster-whisper")."""

    text: str
    language: str | None
    provider: str


@dataclass(frozen=True)
class ImageReading:
    """A short description of a photo for the agent, its labels (of IMAGE_LABELS), and
    who read it."""

    text: str
    labels: tuple[str, ...]
    provider: str


class ReadingFailed(Exception):
    """A speech or vision provider gave no usable answer (status, body, transport, or it
    is not set up); the message says why, for the operator's log and the agent's note."""


@dataclass(frozen=True)
class MediaEndpoint:
    """A store's OpenAI-compatible speech or vision endpoint."""

    base_url: str
    model: str
    api_key: str | None
    timeout_s: float


class SpeechToText(Protocol):
    """Speech to text by one provider (ai/speech.py). Raises ReadingFailed or
    TimeoutError; never returns an empty transcript."""

    async def transcribe(
        self, audio: bytes, content_type: str, language_hint: str | None
    ) -> Transcript: ...


class VisionModel(Protocol):
    """A description of a photo by one provider (ai/vision.py). Raises ReadingFailed or
    TimeoutError."""

    async def describe(
        self, image: bytes, content_type: str, context_text: str | None, language: str
    ) -> ImageReading: ...


class MediaModels(Protocol):
    """The speech and vision providers this server can offer a store (the composition
    root picks them; a store's settings say which it uses)."""

    def speech_endpoint(self, endpoint: MediaEndpoint) -> SpeechToText: ...

    def local_speech(self) -> SpeechToText:
        """The server's faster-whisper model; raises ReadingFailed saying why there is
        none (not installed, no model directory, a wrong one)."""
        ...

    def vision_endpoint(self, endpoint: MediaEndpoint) -> VisionModel: ...

    async def aclose(self) -> None: ...


class FileStore(Protocol):
    """Where attachments' bytes live (files/local.py, files/s3.py). Keys are made by
    Portside (services/attachments.py), never by a client."""

    # Where its URLs point when not at Portside itself (S3: the bucket's origin, which
    # the pages' Content-Security-Policy must allow); None for Portside's /files/ URLs.
    origin: str | None

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The bytes; raises FileNotFoundError when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Gone, whether or not it was there."""
        ...

    async def url(self, key: str, expires_s: int, filename: str | None) -> str | None:
        """A URL the store signs itself (S3 presigned), or None: Portside serves the
        bytes at its own signed /files/ path. With `filename`, it downloads as that."""
        ...


class MediaProcessor(Protocol):
    """Decoding and re-encoding of uploads (media/processor.py), off the event loop
    and with bounded concurrency. Raises UploadRefused (domain/media.py)."""

    async def process(
        self, data: bytes, sniffed: Sniffed, limits: AttachmentLimits
    ) -> Processed: ...
