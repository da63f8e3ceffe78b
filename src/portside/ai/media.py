"""The speech and vision providers this server offers its stores (domain/ports.py,
MediaModels): stores' own OpenAI-compatible endpoints, on one connection pool, and the
server's faster-whisper model when its operator provides one."""

from __future__ import annotations

from pathlib import Path

import httpx

from portside.ai.speech import EndpointSpeech, WhisperSpeech
from portside.ai.vision import EndpointVision
from portside.domain.ports import MediaEndpoint, SpeechToText, VisionModel


class ServerMediaModels:
    def __init__(
        self,
        whisper_model_dir: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
            # The environment's proxies are not the store's choice; nor is .netrc.
            trust_env=False,
        )
        self._whisper = WhisperSpeech(whisper_model_dir)

    def speech_endpoint(self, endpoint: MediaEndpoint) -> SpeechToText:
        return EndpointSpeech(self._client, endpoint)

    def local_speech(self) -> SpeechToText:
        self._whisper.check_model_dir()
        return self._whisper

    def vision_endpoint(self, endpoint: MediaEndpoint) -> VisionModel:
        return EndpointVision(self._client, endpoint)

    async def aclose(self) -> None:
        self._whisper.close()
        await self._client.aclose()
