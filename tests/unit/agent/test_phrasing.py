"""The store's LLM only rewords the draft: its text is used when it passes the guard."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from portside.agent.phrasing import DRAFT, ERROR, LLM, TIMEOUT, UNGROUNDED, Phraser, grounded
from portside.agent.phrasing import numbers as numbers_in
from portside.agent.replies import default_replies
from portside.services.settings import LlmSettings

LLM_ON = LlmSettings(enabled=True, base_url="http://llm.test/v1", model="m", timeout_ms=300)
DRAFT_TEXT = (
    "Order LP10231 is on its way with DHL Express (tracking JD014600003828), due 2026-03-05."
)


class ScriptedChat:
    """Our own ChatModel port, answering what it is told; it records what it was sent."""

    def __init__(self, answer: str = "", fail: Exception | None = None, hang: bool = False):
        self.answer = answer
        self.fail = fail
        self.hang = hang
        self.sent: list[Sequence[Mapping[str, str]]] = []

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
        self.sent.append(messages)
        if self.hang:
            await asyncio.Event().wait()  # never answers: the budget must end it
        if self.fail is not None:
            raise self.fail
        return self.answer

    async def aclose(self) -> None:
        pass


def test_numbers_are_compared_as_digits() -> None:
    assert numbers_in("€12.50 on 2026-03-05") == numbers_in("12,50 € on 2026/3/5")
    assert numbers_in("due 2026-03-05") != numbers_in("due 2026, only 3 left")
    assert numbers_in("２０ days") == {"20"}
    assert numbers_in("no digits") == set()


@pytest.mark.parametrize(
    ("candidate", "ok"),
    [
        (
            "Good news: LP10231 is on the way with DHL Express (JD014600003828), due 2026-03-05!",
            True,
        ),
        ("LP10231 is on its way, due 2026-03-06. Tracking JD014600003828.", False),  # a new date
        ("LP10231 is on its way, tracking JD014600003828, 20% off next time, 2026-03-05.", False),
        ("Your order is on its way with DHL Express.", False),  # the facts are gone
        ("", False),
        ("   ", False),
        ("LP10231 JD014600003828 2026-03-05 " + "so " * 200, False),  # far too long
    ],
)
def test_the_guard(candidate: str, ok: bool) -> None:
    assert grounded(DRAFT_TEXT, candidate) is ok


async def test_a_grounded_rewording_is_used_and_personal_data_never_sent() -> None:
    chat = ScriptedChat("Great news: LP10231 is with DHL Express, JD014600003828, 2026-03-05.")
    phrased = await Phraser(chat, default_replies()).phrase(
        LLM_ON,
        message="it's ana.garcia@example.com, call +34 612 345 678, where is LP10231?",
        language="en",
        draft=DRAFT_TEXT,
    )
    assert (phrased.by, phrased.fallback) == (LLM, None)
    assert phrased.text.startswith("Great news")
    sent = str(chat.sent)
    assert "ana.garcia" not in sent and "612 345 678" not in sent
    assert "[email]" in sent and "[phone]" in sent and "LP10231" in sent


@pytest.mark.parametrize(
    ("chat", "fallback"),
    [
        (
            ScriptedChat("LP10231 arrives 2026-03-05, tracking JD014600003828, only 3 left!"),
            UNGROUNDED,
        ),
        (ScriptedChat(""), UNGROUNDED),
        (ScriptedChat(fail=RuntimeError("HTTP 500")), ERROR),
        (ScriptedChat(fail=TimeoutError()), TIMEOUT),
        (ScriptedChat(hang=True), TIMEOUT),
    ],
)
async def test_anything_else_gives_the_draft(chat: ScriptedChat, fallback: str) -> None:
    phrased = await Phraser(chat, default_replies()).phrase(
        LLM_ON, message="where is my order?", language="en", draft=DRAFT_TEXT
    )
    assert phrased.text == DRAFT_TEXT
    assert (phrased.by, phrased.fallback) == (DRAFT, fallback)


async def test_the_drafts_own_contact_details_survive_rewording() -> None:
    draft = "Write to help@shop.example within 30 days."
    chat = ScriptedChat("Within 30 days, just write to [email].")
    phrased = await Phraser(chat, default_replies()).phrase(
        LLM_ON, message="returns?", language="en", draft=draft
    )
    assert phrased.text == "Within 30 days, just write to help@shop.example."
    assert "help@shop.example" not in str(chat.sent)


async def test_a_translation_must_keep_every_number() -> None:
    text = "Der Versand nach Japan kostet 12 € und dauert 5 bis 8 Tage."
    good = ScriptedChat("El envío a Japón cuesta 12 € y tarda de 5 a 8 días.")
    done = await Phraser(good, default_replies()).translate(
        LLM_ON, text=text, source="de", target="es"
    )
    assert (done.text, done.by) == ("El envío a Japón cuesta 12 € y tarda de 5 a 8 días.", LLM)
    assert "German" in str(good.sent) and "Spanish" in str(good.sent)
    bad = ScriptedChat("El envío a Japón cuesta 15 € y tarda de 5 a 8 días.")
    kept = await Phraser(bad, default_replies()).translate(
        LLM_ON, text=text, source="de", target="es"
    )
    assert (kept.text, kept.by, kept.fallback) == (text, DRAFT, UNGROUNDED)
