"""Retraining a store's intent model in the background of the server process.

`POST /api/v1/intents/retrain` takes the store's training lease (so that of several
nodes one trains a store at a time) and starts a task here. The embedding goes through
the agent's one model thread, a few messages at a time between shoppers' turns; the
fitting, which keeps one core busy for a minute or so, runs on a thread of its own, so
the event loop keeps serving. The new model is stored only if all of it succeeded;
otherwise the previous one stays and the status says what failed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from portside.agent.intents import IntentModel, Vectors
from portside.agent.learning import (
    MIN_EXAMPLES,
    BaseSet,
    BaseVectors,
    RetrainSettings,
    StoreExample,
    model_to_bytes,
    train_store_model,
)
from portside.errors import Conflict, InvalidRequest
from portside.services import intents as intent_service
from portside.services.context import Services

log = logging.getLogger(__name__)

# Messages embedded in one go on the model thread: shoppers' turns wait for one chunk
# at most (~0.2 s).
EMBED_CHUNK = 16

Embed = Callable[[list[str]], Awaitable[Vectors]]


class StoreTrainer:
    def __init__(
        self,
        svc: Services,
        *,
        embed: Embed,
        default_model: Callable[[], Awaitable[IntentModel]],
        embedder_name: str,
        cache_dir: Path,
        settings: RetrainSettings | None = None,
    ) -> None:
        self.svc = svc
        self._embed = embed
        self._default_model = default_model
        self._embedder_name = embedder_name
        self._cache_dir = cache_dir
        self._settings = settings or RetrainSettings()
        # Who holds a lease taken here: this node, for this process's life.
        self.owner = f"node-{secrets.token_hex(6)}"
        self._base: BaseSet | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def start(self, store_id: int) -> dict[str, Any]:
        """Begin training the store's model; its state (status "training") at once."""
        _names, rows = await intent_service.get_training_examples(self.svc, store_id)
        if len(rows) < MIN_EXAMPLES:
            raise InvalidRequest(
                f"Retraining needs at least {MIN_EXAMPLES} labelled examples; the store has "
                f"{len(rows)}. Add examples or label shoppers' messages first."
            )
        if store_id in self._tasks or not await intent_service.do_take_training_lease(
            self.svc, store_id, self.owner
        ):
            raise Conflict("This store's model is being trained already; wait for it.")
        examples = [StoreExample(r["text"], r["intent"], r["language"]) for r in rows]
        task = asyncio.get_running_loop().create_task(self._train(store_id, examples))
        self._tasks[store_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(store_id, None))
        return await intent_service.get_model_state(self.svc, store_id)

    async def close(self) -> None:
        """Stop trainings under way; their leases are let go, the old models stay."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def wait(self) -> None:
        """Until the trainings under way have ended (for tests and shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def _train(self, store_id: int, examples: list[StoreExample]) -> None:
        error: str | None = "The training was stopped (the server shut down)."
        try:
            base = await self._base_set()
            vectors = await self._embed_all([e.text for e in examples])
            default = await self._default_model()
            model, metrics = await asyncio.to_thread(
                train_store_model, base, examples, vectors, default, self._settings
            )
            weights = await asyncio.to_thread(model_to_bytes, model)
            version = await intent_service.do_save_model(
                self.svc,
                store_id,
                self.owner,
                weights=weights,
                labels=list(model.labels),
                metrics=metrics,
            )
            if version is None:
                log.warning("store %s: the training lease lapsed; model not stored", store_id)
            else:
                log.info(
                    "store %s: intent model v%s, accuracy %.3f -> %.3f on %d examples",
                    store_id,
                    version,
                    metrics["before"],
                    metrics["after"],
                    metrics["n_examples"],
                )
            error = None
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("store %s: retraining failed", store_id)
            error = f"The training failed: {exc}"
        finally:
            if error is not None:
                await asyncio.shield(
                    intent_service.do_release_training_lease(self.svc, store_id, self.owner, error)
                )

    async def _base_set(self) -> BaseSet:
        if self._base is None:
            vectors = await asyncio.to_thread(BaseVectors, self._embedder_name, self._cache_dir)
            missing = vectors.missing()
            if missing:
                log.warning("embedding %d catalogue examples not shipped", len(missing))
                await asyncio.to_thread(vectors.add, missing, await self._embed_all(missing))
            self._base = await asyncio.to_thread(vectors.base_set)
        return self._base

    async def _embed_all(self, texts: list[str]) -> Vectors:
        parts = [
            await self._embed(texts[i : i + EMBED_CHUNK]) for i in range(0, len(texts), EMBED_CHUNK)
        ]
        return np.concatenate(parts).astype(np.float32)
