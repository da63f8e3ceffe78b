"""Speech to text: any OpenAI-compatible `/audio/transcriptions` endpoint a store names,
or faster-whisper on this server with a model directory its operator provides.

The voice notes are as uploads leave them (AAC in MP4, mono; services/attachments.py).
The endpoint is asked for `verbose_json`, the one OpenAI answer that names the language
it heard; an endpoint that answers plain `json` is taken too, without the language.

faster-whisper pulls in ctranslate2, so it is not a dependency: it is the optional extra
`portside[whisper]`, imported only when a store chooses it. It never downloads a model:
the operator names a directory holding a converted model (PORTSIDE_WHISPER_MODEL_DIR,
with `model.bin` and `config.json`), and a store that chooses it without one is told why.
"""

from __future__ import annotations

import asyncio
import importlib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from portside.domain.ports import MediaEndpoint, ReadingFailed, Transcript

# The name stored with a transcript made by each provider.
ENDPOINT = "endpoint"
WHISPER = "faster-whisper"
# The files of a converted (CTranslate2) Whisper model.
MODEL_FILES = ("model.bin", "config.json")
NOT_INSTALLED = (
    "faster-whisper is not installed on this server: its operator installs it with "
    "pip install 'portside[whisper]'"
)
_SUFFIXES = {
    "audio/mp4": "m4a",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
}


class EndpointSpeech:
    """One store's OpenAI-compatible transcription endpoint, on the server's pool."""

    def __init__(self, client: httpx.AsyncClient, endpoint: MediaEndpoint) -> None:
        self._client = client
        self._endpoint = endpoint

    async def transcribe(
        self, audio: bytes, content_type: str, language_hint: str | None
    ) -> Transcript:
        endpoint = self._endpoint
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        fields = {"model": endpoint.model, "response_format": "verbose_json"}
        if language_hint:
            fields["language"] = language_hint
        name = f"voice.{_SUFFIXES.get(content_type, 'bin')}"
        try:
            response = await self._client.post(
                f"{endpoint.base_url.rstrip('/')}/audio/transcriptions",
                data=fields,
                files={"file": (name, audio, content_type)},
                headers=headers,
                timeout=httpx.Timeout(endpoint.timeout_s),
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(
                f"no transcript from the speech endpoint within {endpoint.timeout_s} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise ReadingFailed(
                f"the speech endpoint could not be reached: {type(exc).__name__}"
            ) from exc
        if response.status_code != 200:
            raise ReadingFailed(f"the speech endpoint answered {response.status_code}")
        return _transcript(response)


def _transcript(response: httpx.Response) -> Transcript:
    try:
        data: Any = response.json()
    except ValueError as exc:
        raise ReadingFailed("the speech endpoint's answer is not JSON") from exc
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise ReadingFailed("the speech endpoint's answer has no text")
    if not text.strip():
        raise ReadingFailed("the speech endpoint heard no words")
    return Transcript(text.strip(), language_code(data.get("language")), ENDPOINT)


# verbose_json names the language in English ("spanish"); some servers give the code.
_LANGUAGE_NAMES = {
    "arabic": "ar",
    "chinese": "zh",
    "english": "en",
    "french": "fr",
    "german": "de",
    "italian": "it",
    "japanese": "ja",
    "korean": "ko",
    "portuguese": "pt",
    "russian": "ru",
    "spanish": "es",
    "dutch": "nl",
    "turkish": "tr",
    "polish": "pl",
}


def language_code(value: object) -> str | None:
    """ "spanish", "es" or "es-MX" -> "es"; None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    word = value.strip().lower()
    if word in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[word]
    base = word.replace("_", "-").split("-")[0]
    return base if len(base) in (2, 3) and base.isalpha() and base.isascii() else None


def load_faster_whisper() -> Any:
    """The faster_whisper package, imported now."""
    try:
        return importlib.import_module("faster_whisper")
    except ImportError as exc:
        raise ReadingFailed(NOT_INSTALLED) from exc


class WhisperSpeech:
    """faster-whisper on this server's CPU, one voice note at a time, on its own thread.
    The model is loaded from `model_dir` when first needed."""

    provider = WHISPER

    def __init__(
        self, model_dir: Path | None, *, load: Callable[[], Any] = load_faster_whisper
    ) -> None:
        self.model_dir = model_dir
        self._load = load
        self._model: Any = None
        self._lock = asyncio.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")

    def check_model_dir(self) -> Path:
        """The model directory, if it holds a converted model; ReadingFailed otherwise."""
        if self.model_dir is None:
            raise ReadingFailed(
                "this server has no faster-whisper model: its operator names a model "
                "directory with PORTSIDE_WHISPER_MODEL_DIR"
            )
        missing = [name for name in MODEL_FILES if not (self.model_dir / name).is_file()]
        if missing:
            raise ReadingFailed(
                f"the faster-whisper model directory {self.model_dir} has no "
                f"{', '.join(missing)}: it needs a converted (CTranslate2) Whisper model"
            )
        return self.model_dir

    async def _ready(self) -> Any:
        async with self._lock:
            if self._model is None:
                folder = self.check_model_dir()
                module = self._load()
                loop = asyncio.get_running_loop()
                try:
                    self._model = await loop.run_in_executor(
                        self._worker,
                        lambda: module.WhisperModel(
                            str(folder), device="cpu", compute_type="int8", local_files_only=True
                        ),
                    )
                except Exception as exc:
                    raise ReadingFailed(
                        f"faster-whisper could not load the model in {folder}: {exc}"
                    ) from exc
            return self._model

    async def transcribe(
        self, audio: bytes, content_type: str, language_hint: str | None
    ) -> Transcript:
        del content_type  # it decodes any container by its content (through PyAV)
        model = await self._ready()

        def run() -> tuple[str, str | None]:
            segments, info = model.transcribe(io.BytesIO(audio), language=language_hint)
            return " ".join(s.text.strip() for s in segments), getattr(info, "language", None)

        loop = asyncio.get_running_loop()
        try:
            text, language = await loop.run_in_executor(self._worker, run)
        except Exception as exc:
            raise ReadingFailed(f"faster-whisper failed: {type(exc).__name__}: {exc}") from exc
        if not text.strip():
            raise ReadingFailed("faster-whisper heard no words")
        return Transcript(text.strip(), language_code(language), WHISPER)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
