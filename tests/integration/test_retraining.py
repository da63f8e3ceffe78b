"""Retraining in the background: one trainer a store, and a failure keeps the old model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portside.agent.intents import IntentModel, Vectors
from portside.agent.retraining import StoreTrainer
from portside.errors import Conflict, InvalidRequest
from portside.services import intents
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.services.stores import do_create_agent, do_create_store
from portside.storage.migrate import upgrade_async
from tests.support.factories import services_for
from tests.support.server import POSTGRES_URL, reset_postgres

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(params=BACKENDS)
async def svc(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    if request.param == "postgres":
        await asyncio.to_thread(reset_postgres, POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'portside.db'}"
    async with services_for(url, tmp_path) as services:
        await upgrade_async(services.settings.effective_database_url)
        yield services


async def a_store_with_examples(svc: Services, count: int) -> int:
    store = await do_create_store(
        svc,
        name="Shop",
        allowed_origins=["https://shop.example"],
        default_language="en",
        timezone="UTC",
    )
    admin = await do_create_agent(
        svc,
        store_id=store["id"],
        email=f"admin@{store['id']}.example",
        name="Admin",
        password="correct horse battery",
        role="admin",
    )
    identity = AgentIdentity(admin["id"], store["id"], "Admin", admin["email"], "admin", "-")
    for i in range(count):
        await intents.do_add_example(
            svc,
            identity,
            text=f"where is my parcel {i}",
            intent="order_status",
            language="en",
            catalogue={"order_status"},
        )
    return int(store["id"])


def trainer(svc: Services, embed: object) -> StoreTrainer:
    async def default_model() -> IntentModel:
        raise AssertionError("not reached")

    return StoreTrainer(
        svc,
        embed=embed,  # type: ignore[arg-type]
        default_model=default_model,
        embedder_name="test",
        cache_dir=svc.settings.data_dir,
    )


async def broken_embed(texts: list[str]) -> Vectors:
    raise RuntimeError("the model thread is gone")


async def test_a_failed_training_keeps_the_previous_model_and_says_why(svc: Services) -> None:
    store_id = await a_store_with_examples(svc, 5)
    # A model trained before: version 1.
    assert await intents.do_take_training_lease(svc, store_id, "earlier")
    saved = await intents.do_save_model(
        svc, store_id, "earlier", weights=b"v1", labels=["order_status"], metrics={"after": 0.9}
    )
    assert saved == 1

    # The shipped vectors are not for the "test" embedder: the base set is embedded first.
    training = trainer(svc, broken_embed)
    started = await training.start(store_id)
    assert started["status"] == "training"
    await training.wait()

    state = await intents.get_model_state(svc, store_id)
    assert state["status"] == "failed"
    assert state["error"] == "The training failed: the model thread is gone"
    assert (state["version"], state["accuracy_after"]) == (1, 0.9)
    assert await intents.find_model_weights(svc, store_id) == (1, b"v1")
    # The lease was let go: the next try may start.
    assert await intents.do_take_training_lease(svc, store_id, "next")


async def test_one_node_at_a_time_trains_a_store(svc: Services) -> None:
    store_id = await a_store_with_examples(svc, 5)
    assert await intents.do_take_training_lease(svc, store_id, "node-a")
    assert not await intents.do_take_training_lease(svc, store_id, "node-b")
    with pytest.raises(Conflict, match="being trained already"):
        await trainer(svc, broken_embed).start(store_id)
    assert (await intents.get_model_state(svc, store_id))["status"] == "training"
    # Only the lease holder stores a model.
    lost = await intents.do_save_model(svc, store_id, "node-b", weights=b"x", labels=[], metrics={})
    assert lost is None
    assert await intents.find_model_weights(svc, store_id) is None


async def test_too_few_examples_are_refused_before_anything_starts(svc: Services) -> None:
    store_id = await a_store_with_examples(svc, 4)
    with pytest.raises(InvalidRequest, match="at least 5 labelled examples; the store has 4"):
        await trainer(svc, broken_embed).start(store_id)
    assert (await intents.get_model_state(svc, store_id))["status"] == "idle"
