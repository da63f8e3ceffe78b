"""A store's LLM, when it has one: the bot's grounded draft said more naturally, and the
store's knowledge translated into the shopper's language.

The draft is always the answer; the LLM only rewords it. Its text is used only if it
passes the grounding guard: the same numbers as the draft (digits of prices, dates,
order numbers, percentages, sizes: none added, none lost), the same placeholders for
personal data, not empty, not much longer than the draft. Anything else (too slow, an
error, an invented number) and the shopper gets the draft. Personal data is redacted
before anything is sent (`redaction.py`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from portside.agent.replies import Replies
from portside.domain.grounding import numbers, unquote
from portside.domain.ports import ChatModel
from portside.domain.redaction import redact, restore
from portside.services.settings import LlmSettings

log = logging.getLogger(__name__)

LLM = "llm"
DRAFT = "draft"
# Why the draft was kept.
TIMEOUT = "timeout"
UNGROUNDED = "ungrounded"
ERROR = "error"


@dataclass(frozen=True)
class Phrased:
    text: str
    by: str  # LLM or DRAFT
    fallback: str | None = None  # why the draft was kept: TIMEOUT, UNGROUNDED, ERROR


_PHRASE = (
    "You are the customer-service assistant of an online store. Rewrite the draft reply "
    "below so it reads naturally and warmly in {language}, as an answer to the shopper's "
    "message. Use only what the draft says: add no facts, numbers, dates, prices, links, "
    "promises or advice. Keep every number, order number, code, product name and "
    "placeholder in square brackets (like [email]) exactly as written. Answer with the "
    "rewritten reply only."
)
_TRANSLATE = (
    "Translate the online store's text below from {source} into {target}. Keep every "
    "number, price, date, code, name and placeholder in square brackets (like [email]) "
    "exactly as written. Add nothing and leave nothing out. Answer with the translation "
    "only."
)


class Phraser:
    def __init__(self, model: ChatModel, replies: Replies) -> None:
        self.model = model
        self.replies = replies

    async def phrase(self, llm: LlmSettings, *, message: str, language: str, draft: str) -> Phrased:
        """The draft reworded in `language` for the shopper's `message`, or the draft."""
        said = redact(draft)
        system = _PHRASE.format(language=self.replies.language_name("en", language))
        user = f"Shopper's message:\n{redact(message).text}\n\nDraft reply:\n{said.text}"
        return await self._ask(llm, system, user, draft, said.replaced)

    async def translate(self, llm: LlmSettings, *, text: str, source: str, target: str) -> Phrased:
        """The store's `text` in `source` translated into `target`, or the text."""
        said = redact(text)
        system = _TRANSLATE.format(
            source=self.replies.language_name("en", source),
            target=self.replies.language_name("en", target),
        )
        return await self._ask(llm, system, said.text, text, said.replaced)

    async def _ask(
        self,
        llm: LlmSettings,
        system: str,
        user: str,
        draft: str,
        replaced: list[tuple[str, str]],
    ) -> Phrased:
        budget = llm.timeout_ms / 1000
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            # The store's time limit bounds the whole call, however the time is spent.
            async with asyncio.timeout(budget):
                answer = await self.model.complete(
                    base_url=llm.base_url,
                    model=llm.model,
                    api_key=llm.api_key,
                    messages=messages,
                    timeout_s=budget,
                    max_tokens=max(200, len(draft)),
                )
        except TimeoutError:
            return Phrased(draft, DRAFT, TIMEOUT)
        except Exception as exc:  # whatever the provider does, the shopper gets the draft
            log.warning("the store's LLM failed: %s", exc)
            return Phrased(draft, DRAFT, ERROR)
        text = restore(unquote(answer), replaced)
        if text is None or not grounded(draft, text):
            return Phrased(draft, DRAFT, UNGROUNDED)
        return Phrased(text, LLM)


def grounded(draft: str, candidate: str) -> bool:
    """Whether `candidate` may stand for `draft`: not empty, not more than three times as
    long (plus 200), and exactly the draft's numbers."""
    if not candidate.strip() or len(candidate) > 3 * len(draft) + 200:
        return False
    return numbers(candidate) == numbers(draft)
