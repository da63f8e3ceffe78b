"""The OpenAI-compatible client over a real socket, against the fake endpoint (ai/llm.py)."""

from __future__ import annotations

import pytest

from portside.ai.llm import LlmError, OpenAICompatibleChat
from tests.support.fake_llm import fake_llm

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


async def test_posts_a_chat_completion_with_the_bearer_key() -> None:
    chat = OpenAICompatibleChat()
    async with fake_llm() as fake:
        fake.answer = "Hello there"
        got = await chat.complete(
            base_url=fake.base_url, model="small-1", api_key="sk-1", messages=MESSAGES, timeout_s=2
        )
        without_key = await chat.complete(
            base_url=fake.base_url + "/",
            model="small-1",
            api_key=None,
            messages=MESSAGES,
            timeout_s=2,
        )
    await chat.aclose()
    assert got == without_key == "Hello there"
    assert fake.requests[0]["model"] == "small-1"
    assert fake.requests[0]["messages"] == MESSAGES
    assert fake.headers[0]["authorization"] == "Bearer sk-1"
    assert "authorization" not in fake.headers[1]


async def test_a_failing_or_silent_endpoint_raises() -> None:
    chat = OpenAICompatibleChat()
    async with fake_llm() as fake:
        fake.status = 500
        with pytest.raises(LlmError, match="500"):
            await chat.complete(
                base_url=fake.base_url, model="m", api_key=None, messages=MESSAGES, timeout_s=2
            )
        fake.status, fake.delay = 200, 5
        with pytest.raises(TimeoutError):
            await chat.complete(
                base_url=fake.base_url, model="m", api_key=None, messages=MESSAGES, timeout_s=0.2
            )
        with pytest.raises(LlmError):
            await chat.complete(
                base_url=fake.base_url + "/nowhere",
                model="m",
                api_key=None,
                messages=MESSAGES,
                timeout_s=2,
            )
    await chat.aclose()
