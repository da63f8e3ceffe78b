"""A store's own intents and the labelled examples its intent model learns from.

Admins add intents next to the catalogue's and examples for any intent; any agent
confirms or corrects what the bot understood of a shopper's message, which records
that message as an example (one label a message: labelling it again replaces it).
The catalogue lives with the agent, a layer above: callers pass its labels in.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import ActorType, EventType, format_time
from portside.errors import Conflict, Forbidden, InvalidRequest, NotFound, field_error
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.stores import check_language
from portside.storage import conversation_store, intent_store

NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_NAME = 64
MAX_DESCRIPTION = 500
MAX_TEXT = 500
MAX_STORE_INTENTS = 50
MAX_EXAMPLES = 5000


def _check_admin(agent: AgentIdentity) -> None:
    if agent.role != "admin":
        raise Forbidden("Only a store's admins can change its intents and examples.")


def check_name(name: object, catalogue: Collection[str]) -> str:
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME.fullmatch(name):
        raise field_error(
            "name",
            "An intent's name is lowercase letters, digits and single underscores, "
            f"starting with a letter, at most {MAX_NAME} characters, like 'gift_wrapping'.",
        )
    if name in catalogue:
        raise field_error(
            "name",
            f"{name!r} is an intent of the catalogue already; add examples to it instead.",
        )
    return name


def check_description(description: object) -> str:
    if not isinstance(description, str) or not description.strip():
        raise field_error("description", "An intent needs a description: what shoppers mean by it.")
    if len(description.strip()) > MAX_DESCRIPTION:
        raise field_error(
            "description", f"A description can have at most {MAX_DESCRIPTION} characters."
        )
    return " ".join(description.split())


def check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise field_error("text", "An example needs text: a message as a shopper would write it.")
    if len(text.strip()) > MAX_TEXT:
        raise field_error("text", f"An example can have at most {MAX_TEXT} characters.")
    return text.strip()


def check_intent(intent: object, known: Collection[str]) -> str:
    if not isinstance(intent, str) or intent not in known:
        raise field_error(
            "intent",
            f"Unknown intent {intent!r}: use an intent of the catalogue or one of the "
            "store's own (GET /api/v1/intents).",
        )
    return intent


def _check_example_language(language: object) -> str | None:
    if language is None:
        return None
    try:
        return check_language(language)
    except InvalidRequest as exc:
        raise field_error("language", exc.message) from None


# Intents.


def _intent_to_dict(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "source": "store",
        "examples": int(row.examples),
        "created_at": format_time(row.created_at),
    }


async def list_store_intents(svc: Services, store_id: int) -> list[dict[str, Any]]:
    rows = await svc.db.read(lambda conn: intent_store.list_intents(conn, store_id))
    return [_intent_to_dict(row) for row in rows]


async def list_store_intent_names(svc: Services, store_id: int) -> set[str]:
    return await svc.db.read(lambda conn: intent_store.intent_names(conn, store_id))


async def do_create_intent(
    svc: Services,
    agent: AgentIdentity,
    *,
    name: object,
    description: object,
    catalogue: Collection[str],
) -> dict[str, Any]:
    _check_admin(agent)
    checked_name = check_name(name, catalogue)
    checked_description = check_description(description)
    now = svc.clock.now()

    def create(conn: Connection) -> bool:
        if intent_store.count_intents(conn, agent.store_id) >= MAX_STORE_INTENTS:
            raise InvalidRequest(
                f"A store can have at most {MAX_STORE_INTENTS} intents of its own."
            )
        return intent_store.insert_intent(
            conn, agent.store_id, checked_name, checked_description, now
        )

    if not await svc.db.write(create):
        raise Conflict(f"The store has an intent {checked_name!r} already.")
    return {
        "name": checked_name,
        "description": checked_description,
        "source": "store",
        "examples": 0,
        "created_at": format_time(now),
    }


async def do_delete_intent(svc: Services, agent: AgentIdentity, *, name: str) -> None:
    """Remove a store intent and its examples; the model keeps it until retrained."""
    _check_admin(agent)
    if not await svc.db.write(lambda conn: intent_store.delete_intent(conn, agent.store_id, name)):
        raise NotFound(f"The store has no intent {name!r}.")


# Examples.


def example_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "text": row.text,
        "language": row.language,
        "intent": row.intent,
        "source": row.source,
        "conversation_id": row.conversation_id,
        "event_id": row.event_id,
        "labelled_by": row.labelled_by,
        "created_at": format_time(row.created_at),
    }


async def list_examples(
    svc: Services, store_id: int, *, intent: str | None = None
) -> list[dict[str, Any]]:
    rows = await svc.db.read(lambda conn: intent_store.list_examples(conn, store_id, intent=intent))
    return [example_to_dict(row) for row in rows]


async def do_add_example(
    svc: Services,
    agent: AgentIdentity,
    *,
    text: object,
    intent: object,
    language: object,
    catalogue: Collection[str],
) -> dict[str, Any]:
    _check_admin(agent)
    checked_text = check_text(text)
    checked_language = _check_example_language(language)

    def add(conn: Connection) -> dict[str, Any]:
        known = {*catalogue, *intent_store.intent_names(conn, agent.store_id)}
        values = {
            "text": checked_text,
            "language": checked_language,
            "intent": check_intent(intent, known),
            "source": "api",
            "labelled_by": agent.id,
            "created_at": svc.clock.now(),
        }
        _check_room(conn, agent.store_id)
        return {"id": intent_store.insert_example(conn, agent.store_id, values), **values}

    return _example_out(await svc.db.write(add))


async def do_delete_example(svc: Services, agent: AgentIdentity, *, example_id: int) -> None:
    _check_admin(agent)

    def delete(conn: Connection) -> bool:
        return intent_store.delete_example(conn, agent.store_id, example_id)

    if not await svc.db.write(delete):
        raise NotFound("There is no such example.")


def _check_room(conn: Connection, store_id: int) -> None:
    if intent_store.count_examples(conn, store_id) >= MAX_EXAMPLES:
        raise InvalidRequest(
            f"A store can have at most {MAX_EXAMPLES} examples; delete some first."
        )


def _example_out(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": values["id"],
        "text": values["text"],
        "language": values.get("language"),
        "intent": values["intent"],
        "source": values["source"],
        "conversation_id": values.get("conversation_id"),
        "event_id": values.get("event_id"),
        "labelled_by": values.get("labelled_by"),
        "created_at": format_time(values["created_at"]),
    }


# Labelling shoppers' messages.


async def do_label_message(
    svc: Services,
    agent: AgentIdentity,
    *,
    conversation_id: int,
    event_id: int,
    intent: object,
    catalogue: Collection[str],
) -> dict[str, Any]:
    """Confirm or correct the intent of a shopper's message: it becomes an example
    (source "agent"), replacing the label it had."""

    def label(conn: Connection) -> dict[str, Any]:
        event = intent_store.find_message(conn, agent.store_id, conversation_id, event_id)
        if event is None:
            raise NotFound("This conversation has no such message.")
        if event.type != EventType.MESSAGE_CREATED or event.actor_type != ActorType.VISITOR:
            raise field_error(
                "event_id", "Only a shopper's message can be labelled with an intent."
            )
        known = {*catalogue, *intent_store.intent_names(conn, agent.store_id)}
        checked = check_intent(intent, known)
        understood = intent_store.list_bot_details(conn, agent.store_id, conversation_id)
        details = understood.get(event_id) or {}
        values = {
            "text": str(event.data.get("text", ""))[: MAX_TEXT * 4].strip(),
            "language": details.get("language") if isinstance(details, dict) else None,
            "intent": checked,
            "source": "agent",
            "conversation_id": conversation_id,
            "event_id": event_id,
            "labelled_by": agent.id,
            "created_at": svc.clock.now(),
        }
        if not values["text"]:
            raise field_error("event_id", "This message has no text to learn from.")
        _check_room(conn, agent.store_id)
        return {"id": intent_store.replace_label(conn, agent.store_id, values), **values}

    try:
        result = await svc.db.write(label)
    except IntegrityError:
        # Two agents labelled the same message at once: the later one wins.
        result = await svc.db.write(label)
    return _example_out(result)


async def get_message_intents(svc: Services, store_id: int, conversation_id: int) -> dict[str, Any]:
    """For each shopper message of a conversation that the bot answered or an agent
    labelled: what the bot understood and the label it has."""

    def query(conn: Connection) -> dict[str, Any]:
        if conversation_store.find_conversation(conn, store_id, conversation_id) is None:
            raise NotFound("This conversation does not exist.")
        understood = intent_store.list_bot_details(conn, store_id, conversation_id)
        labels = intent_store.list_examples(conn, store_id, conversation_id=conversation_id)
        return {"understood": understood, "labels": labels}

    found = await svc.db.read(query)
    messages: dict[str, dict[str, Any]] = {}
    for event_id, details in found["understood"].items():
        if isinstance(details, dict):
            messages[str(event_id)] = {
                "predicted": details.get("intent"),
                "confidence": details.get("confidence"),
                "label": None,
            }
    for row in found["labels"]:
        if row.event_id is not None:
            entry = messages.setdefault(
                str(row.event_id), {"predicted": None, "confidence": None, "label": None}
            )
            entry["label"] = row.intent
    return {"messages": messages}


# The store's model: what it is, and the training lease.

# A training holds the lease this long at most; a node that died lets go by then.
LEASE = timedelta(minutes=30)


async def get_model_state(svc: Services, store_id: int) -> dict[str, Any]:
    """{status: idle/training/failed, version, trained_at, n_examples, accuracy_before,
    accuracy_after, folds, per_intent, error}."""

    def query(conn: Connection) -> tuple[Any, int]:
        return (
            intent_store.find_model_state(conn, store_id),
            intent_store.count_examples(conn, store_id),
        )

    row, examples = await svc.db.read(query)
    now = svc.clock.now()
    state: dict[str, Any] = {
        "status": "idle",
        "version": 0,
        "trained_at": None,
        "n_examples": None,
        "examples": examples,
        "accuracy_before": None,
        "accuracy_after": None,
        "folds": None,
        "per_intent": None,
        "error": None,
    }
    if row is None:
        return state
    metrics = row.metrics or {}
    state.update(
        version=int(row.version),
        trained_at=format_time(row.trained_at) if row.trained_at else None,
        n_examples=metrics.get("n_examples"),
        accuracy_before=metrics.get("before"),
        accuracy_after=metrics.get("after"),
        folds=metrics.get("folds"),
        per_intent=metrics.get("per_intent"),
        error=row.error,
    )
    if row.lease_until is not None and row.lease_until > now:
        state["status"] = "training"
    elif row.error:
        state["status"] = "failed"
    return state


async def get_training_examples(
    svc: Services, store_id: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """The store's own intents, and its examples of every intent still known."""

    def query(conn: Connection) -> tuple[list[str], list[Any]]:
        names = sorted(intent_store.intent_names(conn, store_id))
        return names, intent_store.list_examples(conn, store_id)

    names, rows = await svc.db.read(query)
    return names, [{"text": r.text, "intent": r.intent, "language": r.language} for r in rows]


async def do_take_training_lease(svc: Services, store_id: int, owner: str) -> bool:
    now = svc.clock.now()
    return await svc.db.write(
        lambda conn: intent_store.take_lease(conn, store_id, owner, now, now + LEASE)
    )


async def do_save_model(
    svc: Services,
    store_id: int,
    owner: str,
    *,
    weights: bytes,
    labels: list[str],
    metrics: dict[str, Any],
) -> int | None:
    now = svc.clock.now()
    return await svc.db.write(
        lambda conn: intent_store.save_model(
            conn, store_id, owner, weights=weights, labels=labels, metrics=metrics, now=now
        )
    )


async def do_release_training_lease(
    svc: Services, store_id: int, owner: str, error: str | None
) -> None:
    await svc.db.write(lambda conn: intent_store.release_lease(conn, store_id, owner, error))


async def find_model_weights(svc: Services, store_id: int) -> tuple[int, bytes] | None:
    """The store's trained model, (version, weights), if it has one."""
    row = await svc.db.read(lambda conn: intent_store.find_model(conn, store_id))
    if row is None or row.weights is None:
        return None
    return int(row.version), bytes(row.weights)
