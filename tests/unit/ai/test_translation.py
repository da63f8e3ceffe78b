"""The LLM translator: a strict prompt, personal data redacted before the text leaves,
and an answer used only when it passes the guard; anything else raises, never hands the
source back as a translation."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from portside.ai.llm import LlmError
from portside.ai.translation import LlmTranslator, ServerTranslators
from portside.domain.ports import LlmEndpoint
from portside.domain.translation import NOT_SET_UP, TranslationFailed

ENDPOINT = LlmEndpoint("http://llm.test/v1", "tiny", "sk-1", timeout_s=1.0)
ZH = "您的订单 LP-10023 已经发货了，运费是 12.50 欧元。"
DE = "Ihre Bestellung LP-10023 wurde versandt, der Versand kostet 12,50 €."


class ScriptedChat:
    """Our own ChatModel port, answering what it is told; it records what it was sent."""

    def __init__(self, answer: str = "", fail: Exception | None = None) -> None:
        self.answer = answer
        self.fail = fail
        self.sent: list[Sequence[Mapping[str, str]]] = []
        self.max_tokens: list[int] = []
        self.closed = False

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
        assert (base_url, model, api_key, timeout_s) == ("http://llm.test/v1", "tiny", "sk-1", 1.0)
        self.sent.append(messages)
        self.max_tokens.append(max_tokens)
        if self.fail is not None:
            raise self.fail
        return self.answer

    async def aclose(self) -> None:
        self.closed = True


async def test_the_llm_is_told_to_translate_only_and_its_answer_is_used() -> None:
    chat = ScriptedChat(f'"{DE}"')
    translator = LlmTranslator(chat, ENDPOINT)
    assert translator.provider == "llm"
    assert translator.pairs() is None  # any pair
    assert await translator.translate(ZH, source="zh", target="de") == DE
    ((system, user),) = chat.sent
    assert "from Chinese into German" in system["content"]
    assert "Translate only" in system["content"]
    assert user == {"role": "user", "content": ZH}


async def test_personal_data_is_redacted_before_and_restored_after() -> None:
    chat = ScriptedChat("Schreiben Sie an [email] oder rufen Sie [phone] an.")
    translated = await LlmTranslator(chat, ENDPOINT).translate(
        "请写信给 anna@example.de 或者打电话 +49 30 1234 5678。", source="zh", target="de"
    )
    assert translated == "Schreiben Sie an anna@example.de oder rufen Sie +49 30 1234 5678 an."
    sent = chat.sent[0][1]["content"]
    assert "anna@example.de" not in sent and "1234 5678" not in sent
    assert "[email]" in sent and "[phone]" in sent


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("", "empty"),
        ("Ihre Bestellung LP-10023 kostet 15 €.", "lost the number"),
        (ZH, "not written in the target language"),
        ("Gerne! " + DE + " Kann ich sonst noch helfen? " * 40, "far longer"),
    ],
)
async def test_an_answer_that_fails_the_guard_is_refused(answer: str, why: str) -> None:
    with pytest.raises(TranslationFailed) as failed:
        await LlmTranslator(ScriptedChat(answer), ENDPOINT).translate(ZH, source="zh", target="de")
    assert failed.value.reason == "refused"
    assert why in failed.value.message


async def test_a_lost_placeholder_is_refused() -> None:
    chat = ScriptedChat("Schreiben Sie uns eine E-Mail.")
    with pytest.raises(TranslationFailed) as failed:
        await LlmTranslator(chat, ENDPOINT).translate(
            "请写信给 anna@example.de", source="zh", target="de"
        )
    assert failed.value.reason == "refused"


@pytest.mark.parametrize(
    ("error", "reason"),
    [(TimeoutError(), "timeout"), (LlmError("the endpoint answered 500"), "failed")],
)
async def test_a_slow_or_failing_llm_gives_no_translation(error: Exception, reason: str) -> None:
    with pytest.raises(TranslationFailed) as failed:
        await LlmTranslator(ScriptedChat(fail=error), ENDPOINT).translate(
            ZH, source="zh", target="de"
        )
    assert failed.value.reason == reason


async def test_a_server_without_argos_says_how_to_set_it_up() -> None:
    chat = ScriptedChat(DE)
    translators = ServerTranslators(chat)
    translators.start()  # nothing to warm up
    assert isinstance(translators.llm(ENDPOINT), LlmTranslator)
    with pytest.raises(TranslationFailed) as failed:
        await translators.argos()
    assert failed.value.reason == NOT_SET_UP
    assert "PORTSIDE_ARGOS_PACKAGES" in failed.value.message
    await translators.aclose()
    assert chat.closed
    await asyncio.sleep(0)
