"""The AI agent in the conversation: it hears shoppers' turns on the bus and answers.

A shopper's message, while the conversation is with the bot, is announced on the turns
topic. The agent reads where the conversation stands, works out the language and the
intent on its one model thread (the embedding takes ~15 ms of one core; the event loop
keeps the other), decides what to say, and writes it through the same actions as a
person. Turns of one conversation are answered in order; different conversations side
by side.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Protocol

from portside.agent.address import CHANGE_ADDRESS
from portside.agent.away import OffHoursHelp
from portside.agent.dialogue import Dialogue, Reply, Turn
from portside.agent.flows import CANCEL_ORDER, ORDER_FLOWS, RETURN
from portside.agent.handoff import Current, Lexicon, context_packet, named_orders
from portside.agent.intents import IntentClassifier, IntentModel, Prediction, Vectors
from portside.agent.language import conversation_language
from portside.agent.learning import model_from_bytes
from portside.agent.media import (
    VOICE_NOT_TRANSCRIBED,
    Heard,
    MediaReader,
    answers_reason,
    do_acknowledge_photo,
    photo_intent,
    reason_shown,
    shows_payment_error,
    with_case_photos,
)
from portside.agent.phrasing import DRAFT, LLM, Phraser
from portside.agent.returns import OPEN_CASE, note_photo
from portside.commerce.shipping import shipping_or_none
from portside.domain.order_numbers import find_order_refs
from portside.domain.ports import ChatModel, MediaModels, Subscription
from portside.errors import PortsideError
from portside.services.bot import (
    do_cancel_order,
    do_change_address,
    do_send_bot_message,
    do_write_handoff_context,
    find_order,
    find_order_named,
    find_orders_named,
    find_products,
    get_handoff_history,
    get_turn_context,
)
from portside.services.context import Services
from portside.services.conversations import ATTACHMENTS_TOPIC, HANDOFFS_TOPIC, TURNS_TOPIC
from portside.services.intents import find_model_weights
from portside.services.settings import LlmSettings, read_handoff, read_llm
from portside.services.turn_recovery import has_bot_reply

log = logging.getLogger(__name__)

# Messages read by the model in one call at most.
MAX_BATCH = 16
# Stores whose own intent models are kept loaded (~2.5 MB each), the least recent out.
STORE_MODELS_KEPT = 64


class LanguageIdentifier(Protocol):
    def identify(self, text: str, previous: str | None = None) -> str | None: ...


class BotParticipant:
    def __init__(
        self,
        svc: Services,
        classifier: Callable[[], IntentClassifier],
        identifier: Callable[[], LanguageIdentifier],
        dialogue: Dialogue,
        lexicon: Lexicon,
        chat: ChatModel | None = None,
        media: MediaModels | None = None,
    ) -> None:
        self.svc = svc
        self.dialogue = dialogue
        self.lexicon = lexicon
        # A store's own LLM, when it configures one (its `llm` settings), through `chat`.
        self._chat = chat
        self._phraser = Phraser(chat, dialogue.replies) if chat is not None else None
        # Outside business hours: when a person is back, and the shopper's email.
        self._away = OffHoursHelp(svc, dialogue.replies)
        # Stores' speech and vision providers, when they configure them (agent/media.py).
        self._media_models = media
        self._media = MediaReader(svc, media)
        self._make_classifier = classifier
        self._make_identifier = identifier
        self._classifier: IntentClassifier | None = None
        self._identifier: LanguageIdentifier | None = None
        self._models = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agent-model")
        # Messages waiting for the model thread, and whether a batch is on its way there.
        self._waiting: list[
            tuple[
                tuple[str, str | None, IntentModel | None],
                asyncio.Future[tuple[str | None, Prediction]],
            ]
        ] = []
        # A store's own model by store: (version, model), loaded when first needed.
        self._store_models: OrderedDict[int, tuple[int, IntentModel]] = OrderedDict()
        self._batcher: asyncio.Task[None] | None = None
        self._subscriptions: list[Subscription] = []
        self._latest: dict[int, asyncio.Task[None]] = {}
        self._ready: asyncio.Future[None] | None = None

    async def start(self) -> None:
        """Subscribe at once; the models load on their thread meanwhile (~1 s)."""
        loop = asyncio.get_running_loop()
        self._ready = loop.run_in_executor(self._models, self._load)
        self._subscriptions = [
            self.svc.bus.subscribe(TURNS_TOPIC, self._on_turn),
            self.svc.bus.subscribe(HANDOFFS_TOPIC, self._on_handoff),
            self.svc.bus.subscribe(ATTACHMENTS_TOPIC, self._on_attachments),
        ]

    async def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        pending = list(self._latest.values())
        if pending:
            await asyncio.wait(pending, timeout=5)
        self._models.shutdown(wait=False, cancel_futures=True)
        if self._chat is not None:
            await self._chat.aclose()
        if self._media_models is not None:
            await self._media_models.aclose()

    def _load(self) -> None:
        self._identifier = self._make_identifier()
        self._classifier = self._make_classifier()
        # First calls map weights in and build tables: not on a shopper's time.
        self._identifier.identify("warm up the detector")
        self._classifier.classify("warm up")

    def _on_turn(self, _topic: str, message: dict[str, Any]) -> None:
        # The turn is announced right after the shopper's message is stored: the bot's
        # reply latency (the operators' metrics) runs from here.
        heard = asyncio.get_running_loop().time()
        self._chain(
            int(message["conversation_id"]),
            lambda turn: self.answer(turn, heard_at=heard),
            message,
        )

    def recover(self, turn: dict[str, Any]) -> None:
        """Answer a turn found unanswered in the log (services/turn_recovery.py): after
        what is under way for its conversation here, and only if still unanswered then
        (this node may have been answering it)."""
        self._chain(int(turn["conversation_id"]), self._answer_unanswered, turn)

    async def _answer_unanswered(self, turn: dict[str, Any]) -> Reply | None:
        conversation_id, event_id = int(turn["conversation_id"]), int(turn["event_id"])
        if await has_bot_reply(self.svc, conversation_id, event_id):
            return None
        return await self.answer(turn)

    def _on_handoff(self, _topic: str, message: dict[str, Any]) -> None:
        self._chain(int(message["conversation_id"]), self.write_context, message)

    def _on_attachments(self, _topic: str, message: dict[str, Any]) -> None:
        self._chain(int(message["conversation_id"]), self._media.for_person, message)

    def _chain(
        self,
        conversation_id: int,
        work: Callable[[dict[str, Any]], Awaitable[object]],
        message: dict[str, Any],
    ) -> None:
        """Run `work` after what is under way for the same conversation."""
        before = self._latest.get(conversation_id)
        task = asyncio.get_running_loop().create_task(self._after(before, work, message))
        self._latest[conversation_id] = task
        task.add_done_callback(lambda t: self._forget(conversation_id, t))

    def _forget(self, conversation_id: int, task: asyncio.Task[None]) -> None:
        if self._latest.get(conversation_id) is task:
            del self._latest[conversation_id]

    async def _after(
        self,
        before: asyncio.Task[None] | None,
        work: Callable[[dict[str, Any]], Awaitable[object]],
        message: dict[str, Any],
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            await work(message)
        except PortsideError as exc:
            log.warning("the agent could not handle event %s: %s", message["event_id"], exc.message)
        except Exception:
            log.exception("the agent failed on event %s", message["event_id"])

    async def answer(self, turn: dict[str, Any], *, heard_at: float | None = None) -> Reply | None:
        """Answer the shopper's turn; with `heard_at` (event loop time), the time from
        then to the reply stored is counted in the node's metrics."""
        assert self._ready is not None, "start() first"
        await self._ready
        store_id, conversation_id = int(turn["store_id"]), int(turn["conversation_id"])
        context = await get_turn_context(
            self.svc, store_id=store_id, conversation_id=conversation_id, seq=int(turn["seq"])
        )
        if context is None:
            return None  # a person has it now: the bot says nothing
        text = str(turn["text"])
        previous, misunderstood = _history(context["recent"])
        before = previous or _base_language(context["visitor_language"])
        heard = None
        if turn.get("attachments"):
            # A voice note's words, a photo's labels (agent/media.py).
            heard = await self._media.hear(
                store_id,
                context["store"]["settings"],
                turn,
                spoken=before,
                agents_language=context["store"]["default_language"],
            )
            if heard.not_transcribed is not None:
                return await self._not_transcribed(turn, context, heard, before)
            text = heard.text
        model = await self._store_model(store_id, int(context.get("intent_model") or 0))
        detected, prediction = await self._understand(text, before, model)
        store = context["store"]
        lang = conversation_language(before, detected, text)
        if heard is not None and heard.language:
            lang = heard.language  # heard in the voice note: surer than any text detector
        # Until the shopper's language is known, the bot speaks the store's.
        speaking = lang or store["default_language"]
        flow = _flow(context["recent"])
        seen = None  # the return reason the photos show
        if heard is not None and heard.photos:
            replies = self.dialogue.replies
            prediction = photo_intent(replies, replies.speaks(speaking), heard, text, prediction)
            seen = reason_shown(heard)
            returning = (flow or {}).get("name") == RETURN
            if returning and shows_payment_error(heard):
                # Not this return's evidence: the bot answers about the payment, and the
                # return flow ends (the shopper may start it again).
                flow = None
            elif (
                not text.strip()
                and (prediction.confidence < 1 or returning)
                and not answers_reason(flow, seen)
            ):
                if returning:
                    flow = note_photo(dict(flow or {}), seen)
                said = await do_acknowledge_photo(
                    self.svc, replies, turn, heard=heard, flow=flow, lang=lang, speaking=speaking
                )
                return Reply(said, "photo", True, flow=flow)
        # Waiting for a person outside hours, an address is for the email the bot
        # offered (unless a flow asks for it as a proof).
        taken = None if flow else await self._away.take_email(turn, context, speaking)
        if taken is not None:
            return taken
        number = (flow or {}).get("order")
        # A bare number is an order number when one is expected; otherwise it may be a
        # postcode (the proof the flow asks for), so only a marked one counts ("#1001",
        # "order no. 1001", "订单号1001"), or one the store has ("LP10231").
        awaiting_proof = number is not None
        expecting = not awaiting_proof and (flow is not None or prediction.intent in ORDER_FLOWS)
        refs = find_order_refs(text, bare=bool(expecting), asked=flow is not None)
        named, order = await find_order_named(self.svc, store_id, refs) if refs else (None, None)
        if named is None and number:
            order = await find_order(self.svc, store_id, number)
        number = named or number
        products: dict[str, Any] = {}
        if order is not None and RETURN in ((flow or {}).get("name"), prediction.intent):
            slugs = [str(item.get("slug")) for item in order.get("items") or []]
            products = await find_products(self.svc, store_id, slugs)
        reply = self.dialogue.reply(
            Turn(
                text=text,
                lang=speaking,
                prediction=prediction,
                store_name=store["name"],
                store_language=store["default_language"],
                product=context["product"],
                knowledge=context["knowledge"],
                misunderstood_before=misunderstood,
                flow=flow,
                order_number=number,
                order=order,
                proven=_proven(context["recent"]),
                order_products=products,
                today=self.svc.clock.now().date(),
                shipping=shipping_or_none(store.get("settings", {}).get("shipping")),
                country=context.get("visitor_country"),
                last_intent=_last_intent(context["recent"]),
                refund_above=_refund_above(store.get("settings")),
                photos=len(heard.photos) if heard is not None else 0,
                photo_reason=seen,
            )
        )
        text_out = reply.text
        cancelling = reply.action == CANCEL_ORDER and number is not None
        if cancelling and not await do_cancel_order(self.svc, store_id, str(number)):
            # It shipped (or was cancelled) between the question and the yes.
            replies = self.dialogue.replies
            text_out = replies.say(
                replies.speaks(speaking), "cannot_cancel_shipped", order=str(number)
            )
        text_out, llm_details = await self._through_llm(
            read_llm(store.get("settings")), reply, text, speaking, text_out
        )
        moving = reply.action == CHANGE_ADDRESS and number is not None and reply.payload
        if moving and not await do_change_address(
            self.svc, store_id, str(number), str((reply.payload or {})["address"])
        ):
            # It shipped between the question and the yes.
            replies = self.dialogue.replies
            text_out = replies.say(replies.speaks(speaking), "address_too_late", order=str(number))
        packet, away = None, None
        if reply.handoff is not None:
            current = Current(text, reply.intent, reply.understood, reply.flow, reply.verified)
            packet = await self._packet(store_id, conversation_id, reply.handoff, lang, current)
            away = await self._away.note(store_id, context, speaking)
        unrouted = None
        if away is not None and reply.handoff is not None:
            # Said only if no agent (one working late) can take it at once.
            unrouted = self._away.with_note(reply.handoff, text_out, away)
        case = reply.payload if reply.action == OPEN_CASE else None
        if case is not None:
            # The photos sent in the return flow are its evidence.
            case = await with_case_photos(self.svc, store_id, conversation_id, case)
        sent = await do_send_bot_message(
            self.svc,
            store_id=store_id,
            conversation_id=conversation_id,
            reply_to=int(turn["event_id"]),
            text=text_out,
            details={
                "intent": reply.intent,
                "confidence": round(prediction.confidence, 3),
                "language": lang,
                "understood": reply.understood,
                **({"flow": reply.flow} if reply.flow else {}),
                **({"verified_order": reply.verified} if reply.verified else {}),
                **llm_details,
                **(away.details if away is not None else {}),
            },
            handoff_reason=reply.handoff,
            handoff_context=packet,
            unrouted_text=unrouted,
            open_case=case,
        )
        if heard_at is not None and sent is not None and not sent.duplicate:
            # Stored by this node (another may have answered first: that one counts it).
            self.svc.metrics.bot_replied(asyncio.get_running_loop().time() - heard_at)
        return reply

    async def _not_transcribed(
        self, turn: dict[str, Any], context: dict[str, Any], heard: Heard, lang: str | None
    ) -> Reply:
        """A voice note with no transcript: a person listens to it. The shopper is told
        so, in their language; the packet says it was not transcribed, and why."""
        store_id, conversation_id = int(turn["store_id"]), int(turn["conversation_id"])
        speaking = lang or context["store"]["default_language"]
        replies = self.dialogue.replies
        said = replies.say(replies.speaks(speaking), VOICE_NOT_TRANSCRIBED)
        packet = await self._packet(store_id, conversation_id, VOICE_NOT_TRANSCRIBED, lang)
        if packet is not None:
            packet["voice_note"] = {
                "attachment_id": heard.voice,
                "transcribed": False,
                "why": heard.not_transcribed,
            }
        away = await self._away.note(store_id, context, speaking)
        unrouted = None
        if away is not None:
            unrouted = self._away.with_note(VOICE_NOT_TRANSCRIBED, said, away)
        await do_send_bot_message(
            self.svc,
            store_id=store_id,
            conversation_id=conversation_id,
            reply_to=int(turn["event_id"]),
            text=said,
            details={
                "intent": "voice_note",
                "confidence": 0.0,
                "language": lang,
                "understood": False,
                "voice_not_transcribed": True,
                **(away.details if away is not None else {}),
            },
            handoff_reason=VOICE_NOT_TRANSCRIBED,
            handoff_context=packet,
            unrouted_text=unrouted,
        )
        return Reply(said, "voice_note", False, VOICE_NOT_TRANSCRIBED)

    async def _through_llm(
        self, llm: LlmSettings, reply: Reply, message: str, speaking: str, draft: str
    ) -> tuple[str, dict[str, Any]]:
        """The reply as the store's LLM words it (or translates its knowledge), when the
        store has one, and what the LLM did, for the reply's details."""
        if self._phraser is None or not llm.usable:
            return draft, {}
        lang = self.dialogue.replies.speaks(speaking)
        if reply.foreign is not None:
            # Knowledge in another language is translated when the store allows it, and
            # otherwise said as it is, with the note: rewording it would translate it.
            if not llm.translate:
                return draft, {"phrased_by": DRAFT}
            foreign = reply.foreign
            done = await self._phraser.translate(
                llm, text=foreign.text, source=foreign.language, target=lang
            )
            if done.by == LLM:
                draft = draft.replace(foreign.said, done.text, 1)
            return draft, {"phrased_by": DRAFT, "translated_by": done.by, **_why(done.fallback)}
        if reply.handoff is not None or reply.flow is not None or reply.action is not None:
            # Asking for an order number or a proof, confirming a cancellation, handing
            # over: said exactly as written.
            return draft, {"phrased_by": DRAFT}
        done = await self._phraser.phrase(llm, message=message, language=lang, draft=draft)
        return done.text, {"phrased_by": done.by, **_why(done.fallback, "phrase_fallback")}

    async def write_context(self, handoff: dict[str, Any]) -> None:
        """The context packet of a handoff the shopper made with the widget's button."""
        store_id, conversation_id = int(handoff["store_id"]), int(handoff["conversation_id"])
        packet = await self._packet(store_id, conversation_id, str(handoff["reason"]), None)
        if packet is not None:
            await do_write_handoff_context(
                self.svc,
                store_id=store_id,
                conversation_id=conversation_id,
                handoff_event_id=int(handoff["event_id"]),
                packet=packet,
            )
            await self._away.after_button(handoff, packet.get("language"))

    async def _packet(
        self,
        store_id: int,
        conversation_id: int,
        reason: str,
        lang: str | None,
        current: Current | None = None,
    ) -> dict[str, Any] | None:
        history = await get_handoff_history(
            self.svc, store_id=store_id, conversation_id=conversation_id
        )
        if history is None:
            return None
        events = history["events"]
        language = lang or _history(events)[0] or _base_language(history["language"])
        numbers = named_orders(events, current.text if current else None)
        orders = await find_orders_named(self.svc, store_id, numbers)
        return context_packet(
            self.dialogue.replies,
            self.lexicon,
            events,
            reason=reason,
            language=language,
            orders=orders,
            current=current,
            page=history["page"],
            country=history["country"],
            timezone=history["timezone"],
        )

    async def understand(
        self, store_id: int, text: str, language: str | None, model_version: int
    ) -> tuple[str | None, Prediction]:
        """The language and intent of a message, read as a shopper's turn is (the
        store's own model when it has one): for an agent's suggested replies."""
        assert self._ready is not None, "start() first"
        await self._ready
        model = await self._store_model(store_id, model_version)
        return await self._understand(text, language, model)

    async def embed(self, texts: list[str]) -> Vectors:
        """Vectors of texts, on the model thread (between shoppers' turns)."""
        assert self._ready is not None, "start() first"
        await self._ready
        assert self._classifier is not None
        embedder = self._classifier.embedder
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._models, embedder.embed, texts)

    async def default_model(self) -> IntentModel:
        assert self._ready is not None, "start() first"
        await self._ready
        assert self._classifier is not None
        return self._classifier.model

    async def _store_model(self, store_id: int, version: int) -> IntentModel | None:
        """The store's own intent model when it has one: loaded once a version."""
        if not version:
            return None
        kept = self._store_models.get(store_id)
        if kept is not None and kept[0] == version:
            self._store_models.move_to_end(store_id)
            return kept[1]
        found = await find_model_weights(self.svc, store_id)
        if found is None:
            return None
        model = await asyncio.to_thread(model_from_bytes, found[1])
        assert self._classifier is not None
        if model.embedder != self._classifier.embedder.name:
            log.warning("store %s: its intent model is for another embedder", store_id)
            return None
        self._store_models[store_id] = (found[0], model)
        self._store_models.move_to_end(store_id)
        while len(self._store_models) > STORE_MODELS_KEPT:
            self._store_models.popitem(last=False)
        return model

    async def _understand(
        self, text: str, language: str | None, model: IntentModel | None = None
    ) -> tuple[str | None, Prediction]:
        """The language and intent of a message. Messages that arrive while the model is
        busy wait, and go through it together in one batch: one call for eight short
        messages costs about as much as five calls for one."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[tuple[str | None, Prediction]] = loop.create_future()
        self._waiting.append(((text, language, model), result))
        if self._batcher is None or self._batcher.done():
            self._batcher = loop.create_task(self._run_batches())
        return await result

    async def _run_batches(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            messages = [message for message, _ in batch]
            try:
                understood = await loop.run_in_executor(self._models, self._read, messages)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, understood, strict=True):
                if not future.done():
                    future.set_result(answer)

    def _read(
        self, messages: list[tuple[str, str | None, IntentModel | None]]
    ) -> list[tuple[str | None, Prediction]]:
        """(text, the conversation's language so far, the store's model) -> (language,
        intent), in a batch: embedded together, each through its store's model."""
        assert self._identifier is not None
        assert self._classifier is not None
        languages = [self._identifier.identify(text, before) for text, before, _ in messages]
        vectors = self._classifier.embedder.embed([text for text, _, _ in messages])
        default = self._classifier.model
        rows: dict[int, tuple[IntentModel, list[int]]] = {}
        for i, (_, _, model) in enumerate(messages):
            chosen = model or default
            rows.setdefault(id(chosen), (chosen, []))[1].append(i)
        predictions: dict[int, Prediction] = {}
        for chosen, indices in rows.values():
            texts = [messages[i][0] for i in indices]
            found = chosen.predict(vectors[indices], texts)
            for i, prediction in zip(indices, found, strict=True):
                predictions[i] = prediction
        return [(languages[i], predictions[i]) for i in range(len(messages))]


def _why(fallback: str | None, key: str = "translate_fallback") -> dict[str, str]:
    return {key: fallback} if fallback else {}


def _history(recent: list[Any]) -> tuple[str | None, int]:
    """The language the bot last spoke, and how many of its latest replies in a row
    did not understand."""
    language = None
    misunderstood = 0
    counting = True
    for event in reversed(recent):
        details = event.data.get("bot") if event.actor.type.value == "bot" else None
        if not isinstance(details, dict):
            continue
        if language is None:
            language = details.get("language")
        if counting and details.get("understood") is False:
            misunderstood += 1
        else:
            counting = False
    return language, misunderstood


def _flow(recent: list[Any]) -> dict[str, Any] | None:
    """The flow the bot's last reply left under way, if any."""
    for event in reversed(recent):
        if event.actor.type.value == "bot":
            details = event.data.get("bot")
            flow = details.get("flow") if isinstance(details, dict) else None
            return flow if isinstance(flow, dict) else None
    return None


def _refund_above(settings: Any) -> Decimal | None:
    limit = read_handoff(settings).refund_above
    return None if limit is None else Decimal(str(limit))


def _last_intent(recent: list[Any]) -> str | None:
    """What the bot's last reply was about."""
    for event in reversed(recent):
        details = event.data.get("bot") if event.actor.type.value == "bot" else None
        if isinstance(details, dict):
            intent = details.get("intent")
            return intent if isinstance(intent, str) else None
    return None


def _proven(recent: list[Any]) -> frozenset[str]:
    """The orders the shopper proved theirs in the bot's recent replies."""
    return frozenset(
        str(details["verified_order"])
        for event in recent
        if event.actor.type.value == "bot"
        and isinstance(details := event.data.get("bot"), dict)
        and details.get("verified_order")
    )


def _base_language(tag: str | None) -> str | None:
    """ "es-MX" -> "es": the browser's language, before the shopper has written."""
    return tag.split("-")[0].lower() if tag else None
