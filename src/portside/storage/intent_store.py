"""A store's own intents, its labelled examples, and its trained intent model.

Every query is scoped by `store_id`. The model row doubles as a lease: the node that
trains a store's model holds it until `lease_until`, so with several nodes one trains
at a time, and one that died mid-way lets go by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from portside.storage.tables import events, intent_examples, store_intents, store_models


def list_intents(conn: Connection, store_id: int) -> list[Row[Any]]:
    counts = (
        select(intent_examples.c.intent, func.count().label("examples"))
        .where(intent_examples.c.store_id == store_id)
        .group_by(intent_examples.c.intent)
        .subquery()
    )
    query = (
        select(store_intents, func.coalesce(counts.c.examples, 0).label("examples"))
        .select_from(store_intents.outerjoin(counts, counts.c.intent == store_intents.c.name))
        .where(store_intents.c.store_id == store_id)
        .order_by(store_intents.c.name)
    )
    return list(conn.execute(query).all())


def intent_names(conn: Connection, store_id: int) -> set[str]:
    query = select(store_intents.c.name).where(store_intents.c.store_id == store_id)
    return set(conn.execute(query).scalars())


def count_intents(conn: Connection, store_id: int) -> int:
    query = select(func.count()).where(store_intents.c.store_id == store_id)
    return int(conn.execute(query).scalar_one())


def insert_intent(
    conn: Connection, store_id: int, name: str, description: str, now: datetime
) -> bool:
    """False if the store has an intent of that name already."""
    if name in intent_names(conn, store_id):
        return False
    conn.execute(
        insert(store_intents).values(
            store_id=store_id, name=name, description=description, created_at=now
        )
    )
    return True


def delete_intent(conn: Connection, store_id: int, name: str) -> bool:
    """The intent and the examples labelled with it."""
    result = conn.execute(
        delete(store_intents).where(
            store_intents.c.store_id == store_id, store_intents.c.name == name
        )
    )
    if not result.rowcount:
        return False
    conn.execute(
        delete(intent_examples).where(
            intent_examples.c.store_id == store_id, intent_examples.c.intent == name
        )
    )
    return True


def insert_example(conn: Connection, store_id: int, example: dict[str, Any]) -> int:
    result = conn.execute(
        insert(intent_examples).values(store_id=store_id, **example).returning(intent_examples.c.id)
    )
    return int(result.scalar_one())


def replace_label(conn: Connection, store_id: int, example: dict[str, Any]) -> int:
    """The one label of a shopper's message (`event_id`): a new one replaces the old."""
    conn.execute(
        delete(intent_examples).where(
            intent_examples.c.store_id == store_id,
            intent_examples.c.event_id == example["event_id"],
        )
    )
    return insert_example(conn, store_id, example)


def list_examples(
    conn: Connection,
    store_id: int,
    *,
    intent: str | None = None,
    conversation_id: int | None = None,
    limit: int | None = None,
) -> list[Row[Any]]:
    query = (
        select(intent_examples)
        .where(intent_examples.c.store_id == store_id)
        .order_by(intent_examples.c.id)
    )
    if intent is not None:
        query = query.where(intent_examples.c.intent == intent)
    if conversation_id is not None:
        query = query.where(intent_examples.c.conversation_id == conversation_id)
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).all())


def count_examples(conn: Connection, store_id: int) -> int:
    query = select(func.count()).where(intent_examples.c.store_id == store_id)
    return int(conn.execute(query).scalar_one())


def delete_example(conn: Connection, store_id: int, example_id: int) -> bool:
    result = conn.execute(
        delete(intent_examples).where(
            intent_examples.c.store_id == store_id, intent_examples.c.id == example_id
        )
    )
    return bool(result.rowcount)


# The model and its lease.

_MODEL_STATE = (
    store_models.c.version,
    store_models.c.labels,
    store_models.c.metrics,
    store_models.c.trained_at,
    store_models.c.lease_owner,
    store_models.c.lease_until,
    store_models.c.error,
)


def find_model_state(conn: Connection, store_id: int) -> Any:
    """Everything about the store's model but its weights."""
    query = select(*_MODEL_STATE).where(store_models.c.store_id == store_id)
    return conn.execute(query).first()


def find_model_version(conn: Connection, store_id: int) -> int:
    query = select(store_models.c.version).where(store_models.c.store_id == store_id)
    return int(conn.execute(query).scalar() or 0)


def find_model(conn: Connection, store_id: int) -> Any:
    """The store's trained model (version, weights, labels), if it has one."""
    query = select(store_models.c.version, store_models.c.weights, store_models.c.labels).where(
        store_models.c.store_id == store_id, store_models.c.version > 0
    )
    return conn.execute(query).first()


def ensure_model_row(conn: Connection, store_id: int) -> None:
    """A row to hold the lease on, before the store's first model (version 0)."""
    if find_model_version(conn, store_id) or _has_row(conn, store_id):
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(store_models).values(store_id=store_id, version=0))
    except IntegrityError:
        pass  # another node made it meanwhile


def _has_row(conn: Connection, store_id: int) -> bool:
    query = select(store_models.c.store_id).where(store_models.c.store_id == store_id)
    return conn.execute(query).first() is not None


def take_lease(conn: Connection, store_id: int, owner: str, now: datetime, until: datetime) -> bool:
    """Hold the store's training lease until `until`, unless someone else holds it."""
    ensure_model_row(conn, store_id)
    result = conn.execute(
        update(store_models)
        .where(
            store_models.c.store_id == store_id,
            (store_models.c.lease_until.is_(None)) | (store_models.c.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=until)
    )
    return bool(result.rowcount)


def save_model(
    conn: Connection,
    store_id: int,
    owner: str,
    *,
    weights: bytes,
    labels: list[str],
    metrics: dict[str, Any],
    now: datetime,
) -> int | None:
    """Store a newly trained model as the next version and let go of the lease; None if
    the lease was lost meanwhile (the model is then not stored)."""
    version = find_model_version(conn, store_id) + 1
    result = conn.execute(
        update(store_models)
        .where(store_models.c.store_id == store_id, store_models.c.lease_owner == owner)
        .values(
            version=version,
            weights=weights,
            labels=labels,
            metrics=metrics,
            trained_at=now,
            lease_owner=None,
            lease_until=None,
            error=None,
        )
    )
    return version if result.rowcount else None


def release_lease(conn: Connection, store_id: int, owner: str, error: str | None) -> None:
    """Let go of the lease; with `error`, why this training failed (the model stays)."""
    conn.execute(
        update(store_models)
        .where(store_models.c.store_id == store_id, store_models.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, error=error)
    )


def find_message(conn: Connection, store_id: int, conversation_id: int, event_id: int) -> Any:
    """An event of one of the store's conversations, by id."""
    query = select(events).where(
        events.c.id == event_id,
        events.c.store_id == store_id,
        events.c.conversation_id == conversation_id,
    )
    return conn.execute(query).first()


def list_bot_details(conn: Connection, store_id: int, conversation_id: int) -> dict[int, Any]:
    """What the bot understood of each shopper message it answered: its reply's
    `data.bot`, by the id of the message (the reply's client_id is "bot:<id>")."""
    query = select(events.c.client_id, events.c.data).where(
        events.c.store_id == store_id,
        events.c.conversation_id == conversation_id,
        events.c.actor_type == "bot",
        events.c.client_id.like("bot:%"),
    )
    found: dict[int, Any] = {}
    for client_id, data in conn.execute(query):
        reply_to = str(client_id).removeprefix("bot:")
        if reply_to.isdigit() and isinstance(data, dict):
            found[int(reply_to)] = data.get("bot")
    return found
