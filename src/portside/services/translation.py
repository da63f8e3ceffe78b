"""Two-way translation between agents and shoppers (docs/console.md, "Translation").

An agent's reply sent with translation on is translated into the shopper's language
before it is stored: the message's `text` is what the shopper reads, `original` what
the agent wrote, `translation` the pair and the provider. No translator for the pair,
a time-out, a refused translation: nothing is stored and the agent is told, with the
pair (`translation_unavailable`); they may then send the text as written, on purpose.

A shopper's message is translated for agents when a console asks, and the translation
kept as an internal event (`message.translated`, client_id "tr:<event id>:<language>"),
so it is made once and every agent and every reload reuses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Actor, ActorType, Event, EventType, Standing, Status
from portside.domain.ports import LlmEndpoint, Translator
from portside.domain.translation import (
    NO_PAIR,
    NOT_SET_UP,
    REFUSED,
    TIMEOUT,
    UNKNOWN_LANGUAGE,
    TranslationFailed,
    base_language,
    find_pair,
    language_name,
    pair_name,
)
from portside.errors import InvalidRequest, NotFound, RateLimited, TranslationUnavailable
from portside.services._log import Outcome, append_event, get_conversation, write
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.settings import read_llm
from portside.services.translation_settings import TranslationSettings, read_translation
from portside.storage import conversation_store as store
from portside.storage import rating_store, store_store, translation_store

_RESEND = "Nothing was sent; turn translation off to send your text as written."
_TRANSLATED_AUTHORS = ("visitor", "bot")


@dataclass(frozen=True)
class _Context:
    """What translating in one conversation needs to know, read in one go."""

    settings: Mapping[str, Any]
    shopper_language: str | None
    agent_languages: list[str]
    agent_language: str | None  # the agent's first language, else the store's

    @classmethod
    def read(cls, conn: Connection, agent: AgentIdentity, row: Any) -> _Context:
        shop = store_store.find_store(conn, agent.store_id)
        if shop is None:
            raise NotFound("This store does not exist.")
        me = store_store.find_agent(conn, agent.id)
        visitor = store_store.find_visitor(conn, agent.store_id, row.visitor_id)
        languages = agent_languages(me.languages if me is not None else [])
        # As canned replies pick it: the language the bot last understood the shopper
        # in, else the conversation's (the shopper's browser's when it began).
        said = rating_store.find_bot_language(conn, row.id)
        return cls(
            settings=dict(shop.settings or {}),
            shopper_language=base_language(said)
            or base_language(row.language)
            or base_language(visitor.language if visitor is not None else None),
            agent_languages=languages,
            agent_language=languages[0] if languages else base_language(shop.default_language),
        )


def agent_languages(raw: object) -> list[str]:
    """An agent's stored languages as base codes, first (their main one) first."""
    codes = [base_language(tag) for tag in raw] if isinstance(raw, list) else []
    return list(dict.fromkeys(code for code in codes if code))


async def get_translation_status(svc: Services, agent: AgentIdentity) -> dict[str, Any]:
    """What the console needs to offer translation: the store's provider, whether it is
    ready (or why not), the pairs it covers (None: any), the agent's languages."""

    def read(conn: Connection) -> tuple[Mapping[str, Any], list[str], str]:
        shop = store_store.find_store(conn, agent.store_id)
        if shop is None:
            raise NotFound("This store does not exist.")
        me = store_store.find_agent(conn, agent.id)
        languages = agent_languages(me.languages if me is not None else [])
        return dict(shop.settings or {}), languages, shop.default_language

    settings, languages, store_language = await svc.db.read(read)
    config = read_translation(settings)
    status: dict[str, Any] = {
        "provider": config.provider,
        "timeout_ms": config.timeout_ms,
        "ready": False,
        "problem": None,
        "pairs": None,
        "agent_languages": languages,
        "store_language": base_language(store_language),
    }
    try:
        translator = await _translator(svc, config, settings)
    except TranslationFailed as exc:
        status["problem"] = _sentence(exc.message)
        return status
    pairs = translator.pairs()
    status["ready"] = True
    status["pairs"] = None if pairs is None else [pair.to_dict() for pair in pairs]
    return status


async def get_conversation_translation(
    svc: Services, agent: AgentIdentity, conversation_id: int
) -> dict[str, Any]:
    """Whether the agent and the shopper of a conversation need translating, and whether
    the store's translator can: each way (`to_shopper`, `to_agent`), or why not."""

    def read(conn: Connection) -> _Context:
        return _Context.read(conn, agent, get_conversation(conn, agent.store_id, conversation_id))

    context = await svc.db.read(read)
    mine, theirs = context.agent_language, context.shopper_language
    speaks = context.agent_languages or ([mine] if mine else [])
    status: dict[str, Any] = {
        "shopper_language": theirs,
        "agent_language": mine,
        "agent_languages": context.agent_languages,
        "needed": theirs is not None and theirs not in speaks,
        "provider": read_translation(context.settings).provider,
        "to_shopper": False,
        "to_agent": False,
        "problem": None,
    }
    if mine is None or theirs is None:
        status["problem"] = "The shopper's language is not known yet."
        return status
    if mine == theirs:
        return status
    try:
        translator = await _translator(svc, read_translation(context.settings), context.settings)
    except TranslationFailed as exc:
        status["problem"] = (
            f"No translation from {pair_name(mine, theirs)} and back: {exc.message}."
        )
        return status
    pairs = translator.pairs()
    status["to_shopper"] = find_pair(pairs, mine, theirs) is not None
    status["to_agent"] = find_pair(pairs, theirs, mine) is not None
    missing = [
        pair_name(a, b)
        for a, b, ok in ((mine, theirs, status["to_shopper"]), (theirs, mine, status["to_agent"]))
        if not ok
    ]
    if missing:
        status["problem"] = (
            f"The store's translator ({translator.provider}) cannot translate "
            f"{' nor '.join(missing)}."
        )
    return status


async def translate_reply(
    svc: Services, agent: AgentIdentity, *, conversation_id: int, text: str, client_id: str
) -> tuple[str, dict[str, Any] | None]:
    """An agent's reply in the shopper's language, and what its message's data carries
    besides (`original`, `translation`); the text as it is, and None, when there is
    nothing to translate (the same language) or it was sent before (a retried send is
    stored once, as it was the first time). Raises TranslationUnavailable."""

    def read(conn: Connection) -> _Context | None:
        row = get_conversation(conn, agent.store_id, conversation_id)
        if store.find_event_by_client_id(conn, row.id, client_id) is not None:
            return None
        return _Context.read(conn, agent, row)

    context = await svc.db.read(read)
    if context is None:
        return text, None
    source, target = context.agent_language, context.shopper_language
    if source is None or target is None:
        raise TranslationUnavailable(
            "The shopper's language is not known yet, so this reply cannot be translated. "
            + _RESEND,
            details={"from": source, "to": target, "reason": UNKNOWN_LANGUAGE},
        )
    if source == target:
        return text, None
    translated, provider = await _translate(svc, context.settings, text, source, target, _RESEND)
    return translated, {
        "original": {"text": text, "language": source},
        "translation": {"from": source, "to": target, "provider": provider},
    }


async def do_translate_message(
    svc: Services,
    agent: AgentIdentity,
    *,
    conversation_id: int,
    event_id: int,
    language: object = None,
) -> tuple[Event, bool]:
    """The shopper's (or the AI agent's) message `event_id` in `language` (by default
    the agent's own), as its `message.translated` event, and whether it was there
    already. Made once per message and language, however many agents ask."""
    wanted = base_language(language)
    if language is not None and wanted is None:
        raise InvalidRequest(f"language is a language code such as zh or de, not {language!r}.")

    def read(conn: Connection) -> tuple[Any, Any, _Context, str | None, Any, str | None]:
        row = get_conversation(conn, agent.store_id, conversation_id)
        message = translation_store.find_event(conn, row.id, event_id)
        if message is None:
            raise NotFound("This message does not exist in this conversation.")
        if message.type != EventType.MESSAGE_CREATED or message.actor_type not in (
            _TRANSLATED_AUTHORS
        ):
            raise InvalidRequest(
                "Only the shopper's and the AI agent's messages are translated for agents."
            )
        context = _Context.read(conn, agent, row)
        target = wanted or context.agent_language
        done = None
        if target is not None:
            client_id = translation_store.translation_client_id(event_id, target)
            done = store.find_event_by_client_id(conn, row.id, client_id)
        return row, message, context, target, done, _message_language(conn, row, message)

    row, message, context, target, done, said_in = await svc.db.read(read)
    if done is not None:
        return store.event_from_row(done, row.visitor_id), True
    source = said_in or context.shopper_language
    hint = "The message is shown as the shopper wrote it."
    if target is None or source is None:
        raise TranslationUnavailable(
            f"The language of this message is not known, so it cannot be translated. {hint}",
            details={"from": source, "to": target, "reason": UNKNOWN_LANGUAGE},
        )
    if source == target:
        raise InvalidRequest(f"This message is in {language_name(target)} already.")
    retry = svc.limiters.agent_messages.hit(f"translate:{agent.id}")
    if retry:
        raise RateLimited(
            f"Too many translations; wait {retry:.0f} s and ask again.", retry_after=retry
        )
    text, provider = await _translate(
        svc, context.settings, str(message.data.get("text") or ""), source, target, hint
    )
    client_id = translation_store.translation_client_id(event_id, target)
    data = {"event_id": event_id, "from": source, "to": target, "text": text, "provider": provider}

    def attempt(conn: Connection, careful: bool) -> Outcome[tuple[Event, bool]]:
        row = get_conversation(conn, agent.store_id, conversation_id)
        if careful:
            previous = store.find_event_by_client_id(conn, row.id, client_id)
            if previous is not None:
                return (store.event_from_row(previous, row.visitor_id), True), [], None
        event = append_event(
            svc, conn, row, Actor(ActorType.SYSTEM), EventType.MESSAGE_TRANSLATED, data, client_id
        )
        return (event, False), [event], Standing(Status(row.status), row.assignee_id)

    return await write(svc, attempt)


def _message_language(conn: Connection, row: Any, message: Any) -> str | None:
    """The language the AI agent found a message in: its own reply's, or, for the
    shopper's, that of the reply it gave to it (None if it gave none)."""
    if message.actor_type == ActorType.BOT.value:
        details = (message.data or {}).get("bot") or {}
    else:
        reply = store.find_event_by_client_id(conn, row.id, f"bot:{message.id}")
        details = ((reply.data or {}).get("bot") or {}) if reply is not None else {}
    return base_language(details.get("language")) if isinstance(details, dict) else None


async def _translate(
    svc: Services,
    settings: Mapping[str, Any],
    text: str,
    source: str,
    target: str,
    hint: str,
) -> tuple[str, str]:
    """`text` from `source` into `target` with the store's translator, and the provider's
    name; raises TranslationUnavailable naming the pair and why."""
    config = read_translation(settings)
    try:
        translator = await _translator(svc, config, settings)
        if find_pair(translator.pairs(), source, target) is None:
            raise TranslationFailed(
                NO_PAIR, f"the store's translator ({translator.provider}) has no such pair"
            )
        # The store's limit bounds the whole translation, however the time is spent.
        async with asyncio.timeout(config.timeout_ms / 1000):
            translated = await translator.translate(text, source=source, target=target)
    except TimeoutError:
        failed = TranslationFailed(TIMEOUT, f"no translation within {config.timeout_ms} ms")
        raise _unavailable(source, target, failed, hint) from None
    except TranslationFailed as exc:
        raise _unavailable(source, target, exc, hint) from None
    if len(translated) > svc.settings.limits.max_message_chars:
        failed = TranslationFailed(REFUSED, "the translation is longer than a message may be")
        raise _unavailable(source, target, failed, hint)
    return translated, translator.provider


async def _translator(
    svc: Services, config: TranslationSettings, settings: Mapping[str, Any]
) -> Translator:
    if config.provider == "off":
        raise TranslationFailed(
            NOT_SET_UP,
            "no translator is set up for this store (an admin chooses one in the "
            "translation settings)",
        )
    if svc.translators is None:
        raise TranslationFailed(NOT_SET_UP, "this server offers no translators")
    if config.provider == "llm":
        llm = read_llm(settings)
        if not llm.usable:
            raise TranslationFailed(
                NOT_SET_UP,
                "the store translates with its LLM, and its LLM is not set up (the llm "
                "settings: enabled, base_url, model)",
            )
        endpoint = LlmEndpoint(llm.base_url, llm.model, llm.api_key, config.timeout_ms / 1000)
        return svc.translators.llm(endpoint)
    return await svc.translators.argos()


def _unavailable(
    source: str, target: str, failed: TranslationFailed, hint: str
) -> TranslationUnavailable:
    return TranslationUnavailable(
        f"No translation from {pair_name(source, target)}: {failed.message}. {hint}",
        details={"from": source, "to": target, "reason": failed.reason},
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
