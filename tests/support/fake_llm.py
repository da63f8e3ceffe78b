"""A small OpenAI-compatible chat endpoint for tests: the third-party edge we cannot run.

It listens on a free loopback port in the test's event loop, answers
`POST /v1/chat/completions`, and records every request (body and headers), so a test
can check what reached it. Told what to do through its attributes: answer a text,
sleep past the caller's time limit, or fail with a status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeLlm:
    answer: str = "Hello!"
    # Seconds to wait before answering (longer than the store's timeout: a slow LLM).
    delay: float = 0.0
    status: int = 200
    # Answers by what was asked (the last message's content), before `answer`.
    respond: Callable[[str], str | None] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def sent_text(self) -> str:
        """Everything the endpoint was sent, as one text."""
        return json.dumps(self.requests, ensure_ascii=False)

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
        if method != "POST" or path != "/v1/chat/completions":
            await _respond(writer, 404, {"error": {"message": f"no {method} {path}"}})
            return
        self.requests.append(json.loads(body))
        self.headers.append(headers)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            await _respond(writer, self.status, {"error": {"message": "the fake was told to fail"}})
            return
        await _respond(
            writer,
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": self.requests[-1].get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self._answer()},
                        "finish_reason": "stop",
                    }
                ],
            },
        )

    def _answer(self) -> str:
        if self.respond is not None:
            asked = str(self.requests[-1]["messages"][-1]["content"])
            chosen = self.respond(asked)
            if chosen is not None:
                return chosen
        return self.answer


async def _respond(writer: asyncio.StreamWriter, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()


@contextlib.asynccontextmanager
async def fake_llm() -> AsyncIterator[FakeLlm]:
    fake = FakeLlm()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
