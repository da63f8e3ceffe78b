"""An OpenAI-compatible chat endpoint (`POST {base_url}/chat/completions`), local or
cloud, chosen by each store. One connection pool for all stores; each call carries the
store's endpoint, key and time limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx


class LlmError(Exception):
    """The endpoint did not give a usable answer (status, body, or transport)."""


class OpenAICompatibleChat:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            # The environment's proxies are not the store's choice; nor is .netrc.
            trust_env=False,
        )

    async def complete(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        messages: Sequence[Mapping[str, str]],
        timeout_s: float,
        max_tokens: int = 400,
    ) -> str:
        """The assistant's text. Raises TimeoutError past `timeout_s` (per read, connect or
        write: the caller bounds the whole call), LlmError on any other failure."""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        body = {
            "model": model,
            "messages": [dict(m) for m in messages],
            "temperature": 0.2,
            "max_tokens": max_tokens,
            "stream": False,
        }
        try:
            response = await self._client.post(
                f"{base_url.rstrip('/')}/chat/completions",
                json=body,
                headers=headers,
                timeout=httpx.Timeout(timeout_s),
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"no answer from the LLM within {timeout_s} s") from exc
        except httpx.HTTPError as exc:
            raise LlmError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise LlmError(f"the endpoint answered {response.status_code}")
        return _content(response)

    async def aclose(self) -> None:
        await self._client.aclose()


def _content(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError("the answer is not an OpenAI chat completion") from exc
    if not isinstance(content, str):
        raise LlmError("the answer has no text")
    return content
