"""A small OpenAI-compatible speech and vision endpoint for tests: the third-party edge
we cannot run.

It listens on a free loopback port in the test's event loop and answers
`POST /v1/audio/transcriptions` (multipart: `file`, `model`, `language`,
`response_format`) and `POST /v1/chat/completions` (a message with an `image_url`
data: URL). It answers a transcript only for real audio: the file must decode (PyAV)
to at least MIN_AUDIO_S of sound; anything else gets the 400 a real endpoint gives.
Images must decode too (Pillow). Every request is recorded for the test to check.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import av
from PIL import Image

MIN_AUDIO_S = 0.5


@dataclass
class FakeMediaAi:
    transcript: str = "hello"
    # The language as verbose_json names it ("spanish"); None: not in the answer.
    language: str | None = "english"
    description: str = "A photo."
    label: str = "other"
    # A raw answer for the vision call instead of the JSON made of the two above.
    vision_answer: str | None = None
    status: int = 200
    delay: float = 0.0
    transcriptions: list[dict[str, Any]] = field(default_factory=list)
    visions: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._exchange(reader, writer)
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        method, path, _ = request_line.split(" ", 2)
        if self.delay:
            await asyncio.sleep(self.delay)
        if method == "POST" and path == "/v1/audio/transcriptions":
            status, answer = self._transcribe(headers, body)
        elif method == "POST" and path == "/v1/chat/completions":
            status, answer = self._describe(headers, json.loads(body))
        else:
            status, answer = 404, {"error": {"message": f"no {method} {path}"}}
        if self.status != 200:
            status, answer = self.status, {"error": {"message": "the fake was told to fail"}}
        await _respond(writer, status, answer)

    def _transcribe(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        raw = f"Content-Type: {headers.get('content-type', '')}\r\n\r\n".encode() + body
        message = BytesParser(policy=HTTP).parsebytes(raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name == "file":
                fields["file"] = payload
                fields["file_type"] = part.get_content_type()
                fields["filename"] = part.get_filename()
            elif isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload.decode()
        fields["authorization"] = headers.get("authorization")
        audio = fields.get("file")
        seconds = _duration(audio) if isinstance(audio, bytes) else None
        fields["seconds"] = seconds
        self.transcriptions.append(fields)
        if seconds is None or seconds < MIN_AUDIO_S:
            return 400, {"error": {"message": "the file is not audio this server can read"}}
        answer: dict[str, Any] = {"text": self.transcript}
        if fields.get("response_format") == "verbose_json":
            answer.update(task="transcribe", duration=seconds, segments=[])
            if self.language is not None:
                answer["language"] = self.language
        return 200, answer

    def _describe(
        self, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        parts = body["messages"][-1]["content"]
        url = next(p["image_url"]["url"] for p in parts if p.get("type") == "image_url")
        texts = [p["text"] for p in parts if p.get("type") == "text"]
        kind, data = url.split(",", 1)
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            size = image.size
        self.visions.append(
            {
                "model": body.get("model"),
                "texts": texts,
                "kind": kind,
                "size": size,
                "authorization": headers.get("authorization"),
            }
        )
        content = self.vision_answer
        if content is None:
            content = json.dumps({"description": self.description, "label": self.label})
        return 200, {
            "id": f"chatcmpl-v{len(self.visions)}",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }


def _duration(data: bytes) -> float | None:
    """Seconds of sound in `data`, decoded; None if it is not audio."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            samples, rate = 0, 0
            for frame in container.decode(audio=0):
                samples += frame.samples
                rate = frame.sample_rate
    except (av.FFmpegError, ValueError, IndexError):
        return None
    return samples / rate if rate else None


async def _respond(writer: asyncio.StreamWriter, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()


@contextlib.asynccontextmanager
async def fake_media_ai() -> AsyncIterator[FakeMediaAi]:
    fake = FakeMediaAi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
