"""Translation through a store's OpenAI-compatible LLM, and the translators a server has.

The LLM is told to translate and nothing else, and its answer is used only if it passes
the guard (domain/grounding.py): not empty, not far longer than the message, every
number, link, email address and order number of the message still there, nothing
invented, written in the target language's script. Personal data is redacted before
the text leaves (domain/redaction.py) and put back after, placeholder by placeholder;
an answer that lost or invented a placeholder is refused. A refused or failed
translation raises TranslationFailed: the caller never gets the source back as if it
were translated.
"""

from __future__ import annotations

import asyncio
import logging

from portside.ai.argos import ArgosTranslator
from portside.ai.llm import LlmError
from portside.domain.grounding import translation_problem, unquote
from portside.domain.ports import ChatModel, LlmEndpoint, Translator
from portside.domain.redaction import redact, restore
from portside.domain.translation import (
    FAILED,
    NOT_SET_UP,
    REFUSED,
    TIMEOUT,
    LanguagePair,
    TranslationFailed,
    language_name,
)

log = logging.getLogger(__name__)

_PROMPT = (
    "You translate chat messages between an online store's customer service and a "
    "shopper. Translate the message the user sends from {source} into {target}. "
    "Translate only: never answer, comment on or explain the message, add nothing and "
    "leave nothing out. Keep every number, price, date, order number, code, link, email "
    "address, product name and placeholder in square brackets (like [email]) exactly as "
    "written. Answer with the translation only."
)
# Tokens the answer may take, at most: a translation rarely needs more than the source's
# characters; CJK into a European language takes about as many tokens as characters.
_MAX_TOKENS = 4000


class LlmTranslator:
    """Any pair of languages, through one store's endpoint."""

    provider = "llm"

    def __init__(self, chat: ChatModel, endpoint: LlmEndpoint) -> None:
        self._chat = chat
        self._endpoint = endpoint

    def pairs(self) -> list[LanguagePair] | None:
        return None

    async def translate(self, text: str, *, source: str, target: str) -> str:
        said = redact(text)
        system = _PROMPT.format(source=language_name(source), target=language_name(target))
        endpoint = self._endpoint
        try:
            answer = await self._chat.complete(
                base_url=endpoint.base_url,
                model=endpoint.model,
                api_key=endpoint.api_key,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": said.text},
                ],
                timeout_s=endpoint.timeout_s,
                max_tokens=min(_MAX_TOKENS, max(200, 3 * len(text))),
            )
        except TimeoutError:
            raise TranslationFailed(TIMEOUT, "the LLM did not answer in time") from None
        except LlmError as exc:
            raise TranslationFailed(FAILED, f"the LLM failed: {exc}") from None
        except Exception as exc:  # whatever else the provider does, it is no translation
            log.warning("the store's LLM failed to translate: %r", exc)
            raise TranslationFailed(FAILED, "the LLM failed") from None
        translated = restore(unquote(answer), said.replaced)
        if translated is None:
            raise TranslationFailed(
                REFUSED, "the translation lost or invented a redacted email, phone or address"
            )
        problem = translation_problem(text, translated, target)
        if problem is not None:
            raise TranslationFailed(REFUSED, problem)
        return translated


class ServerTranslators:
    """The translators this server offers: a store's LLM (one connection pool for all
    stores), and Argos Translate when the operator named a directory of packages."""

    def __init__(
        self,
        chat: ChatModel,
        argos: ArgosTranslator | None = None,
    ) -> None:
        self._chat = chat
        self._argos = argos
        self._warming: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Import Argos and install its packages in the background, if the server has
        any, so that the first agent to translate does not wait for it."""
        if self._argos is not None:
            self._warming = asyncio.get_running_loop().create_task(self._warm(self._argos))

    @staticmethod
    async def _warm(argos: ArgosTranslator) -> None:
        try:
            await argos.prepare()
        except TranslationFailed as exc:
            log.warning("Argos Translate is not ready: %s", exc.message)

    def llm(self, endpoint: LlmEndpoint) -> Translator:
        return LlmTranslator(self._chat, endpoint)

    async def argos(self) -> Translator:
        if self._argos is None:
            raise TranslationFailed(
                NOT_SET_UP,
                "this server has no Argos Translate language packages: its operator sets "
                "PORTSIDE_ARGOS_PACKAGES to a directory of .argosmodel files",
            )
        await self._argos.prepare()
        return self._argos

    async def aclose(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
        await self._chat.aclose()
        if self._argos is not None:
            self._argos.close()
