"""A store's own intent model: the default examples and the store's, learnt together.

A store adds intents and examples, and its agents confirm or correct what the bot
understood (services/intents.py). Retraining fits the same kind of classifier as the
default model (agent/intents.py) to the catalogue's examples plus the store's, each of
the store's counted `STORE_WEIGHT` times, so that a handful of them weigh against the
catalogue's ~370 an intent.

Embedding the catalogue's 14,498 examples takes four to five minutes of one core, so
their vectors ship in the package (`data/intent_vectors.npz`, 8-bit, 4.8 MB; a model
trained on them scores the same as on the full-precision vectors, 87.8% against
87.8% on a fifth held out). When the examples change and the shipped vectors no longer
match them, they are computed once and kept in the data directory.

How good the new model is gets measured on the store's own examples, the only data
that says anything about its shoppers: "before" is the default model's accuracy on
them (it never saw them); "after" is k-fold: each fold is predicted by a model trained
without it. The previous store model is not the "before": it was trained on most of
those examples and would flatter itself.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from portside.agent.catalogue import Example, default_examples, default_intents
from portside.agent.intents import (
    Embedder,
    IntentModel,
    TrainingSettings,
    Vectors,
    train_intent_model,
)

log = logging.getLogger(__name__)

STORE_WEIGHT = 8
FOLDS = 5
# Fewer examples than this say nothing about a model: retraining is refused.
MIN_EXAMPLES = 5


@dataclass(frozen=True)
class BaseSet:
    """The catalogue's examples and their vectors: what every store model starts from."""

    examples: list[Example]
    vectors: Vectors
    labels: list[str]


# Each network starts from one of the default model's and learns for a few epochs, at a
# third of its learning rate: ten seconds a network, against a minute and a half from
# scratch, and the default intents are not forgotten (99.7% of their examples kept).
FINE_TUNING = TrainingSettings(epochs=3, learning_rate=1e-3)
FOLD_TUNING = TrainingSettings(epochs=3, learning_rate=1e-3, seeds=1)


@dataclass(frozen=True)
class RetrainSettings:
    # The model a store uses: three networks, like the default model.
    final: TrainingSettings = FINE_TUNING
    # The k models that measure it: one network each, on this many of the catalogue's
    # examples an intent (they keep the default intents in; the store's are all there).
    folds: TrainingSettings = FOLD_TUNING
    fold_base_per_intent: int = 120
    k: int = FOLDS
    weight: int = STORE_WEIGHT


def shipped_vectors_path() -> Path:
    return Path(str(resources.files("portside.agent") / "data" / "intent_vectors.npz"))


def save_vectors(path: Path, vectors: dict[str, Vectors], embedder: str) -> None:
    """Vectors by text, as 8-bit integers with one scale a row (a quarter of float32)."""
    texts = list(vectors)
    matrix = np.stack([vectors[text] for text in texts]).astype(np.float32)
    scale = np.abs(matrix).max(axis=1, keepdims=True) / 127
    scale[scale == 0] = 1
    meta = json.dumps({"embedder": embedder, "texts": texts}, ensure_ascii=False).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        np.savez_compressed(
            out,
            q=np.round(matrix / scale).astype(np.int8),
            scale=scale.astype(np.float32),
            meta=np.frombuffer(meta, dtype=np.uint8),
        )
    tmp.replace(path)


def load_vectors(path: Path, embedder: str) -> dict[str, Vectors]:
    """The vectors kept in `path` by text, if they are this embedder's."""
    if not path.exists():
        return {}
    with np.load(path) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        if meta.get("embedder") != embedder:
            return {}
        matrix = (data["q"].astype(np.float32) * data["scale"]).astype(np.float32)
    return dict(zip(meta["texts"], matrix, strict=True))


class BaseVectors:
    """The catalogue's examples' vectors: those shipped, then those computed here (kept
    in the data directory), so a change to the examples costs only the new ones."""

    def __init__(self, embedder: str, cache_dir: Path) -> None:
        self.embedder = embedder
        self.cache = cache_dir / "intent_vectors.npz"
        self.examples = default_examples()
        self._vectors = load_vectors(shipped_vectors_path(), embedder)
        self._computed = load_vectors(self.cache, embedder)
        self._vectors.update(self._computed)

    def missing(self) -> list[str]:
        return list(dict.fromkeys(e.text for e in self.examples if e.text not in self._vectors))

    def add(self, texts: Sequence[str], vectors: Vectors) -> None:
        new = dict(zip(texts, vectors, strict=True))
        self._vectors.update(new)
        self._computed.update(new)
        save_vectors(self.cache, self._computed, self.embedder)

    def base_set(self) -> BaseSet:
        vectors = np.stack([self._vectors[e.text] for e in self.examples]).astype(np.float32)
        return BaseSet(self.examples, vectors, list(default_intents()))


def load_base_set(embedder: Embedder, cache_dir: Path) -> BaseSet:
    """The catalogue's examples with their vectors, embedding any not kept yet."""
    base = BaseVectors(embedder.name, cache_dir)
    missing = base.missing()
    if missing:
        base.add(missing, embedder.embed(missing))
    return base.base_set()


@dataclass(frozen=True)
class StoreExample:
    text: str
    intent: str
    language: str | None = None


def store_labels(base: BaseSet, examples: Sequence[StoreExample]) -> list[str]:
    """The catalogue's intents, then the store's own that have examples."""
    known = set(base.labels)
    own = sorted({example.intent for example in examples} - known)
    return [*base.labels, *own]


def fold_of(examples: Sequence[StoreExample], k: int) -> list[int]:
    """Stratified folds: each intent's examples dealt round the k folds in turn."""
    seen: Counter[str] = Counter()
    folds = []
    for example in examples:
        folds.append(seen[example.intent] % k)
        seen[example.intent] += 1
    return folds


def fit(
    base: BaseSet,
    examples: Sequence[StoreExample],
    vectors: Vectors,
    labels: Sequence[str],
    embedder: str,
    settings: TrainingSettings,
    weight: int,
    start: IntentModel | None = None,
) -> IntentModel:
    """A model on the catalogue's examples and the store's, each of these `weight` times,
    starting from `start`'s networks."""
    mine = [Example(e.text, e.intent, e.language or "") for e in examples]
    all_examples = [*base.examples, *(mine * weight)]
    all_vectors = np.concatenate([base.vectors, *([vectors] * weight)]).astype(np.float32)

    class _Named:
        name = embedder
        dim = base.vectors.shape[1]

        def embed(self, texts: Sequence[str]) -> Vectors:
            raise AssertionError("the vectors are given")

    return train_intent_model(
        all_examples, _Named(), labels, settings, vectors=all_vectors, start=start
    )


def train_store_model(
    base: BaseSet,
    examples: Sequence[StoreExample],
    vectors: Vectors,
    default: IntentModel,
    settings: RetrainSettings = RetrainSettings(),
) -> tuple[IntentModel, dict[str, Any]]:
    """The store's model on all its examples, and how it compares with the default model
    on them: {before, after, n_examples, folds, per_intent}."""
    labels = store_labels(base, examples)
    truth = [example.intent for example in examples]
    texts = [example.text for example in examples]
    before = [default.labels[i] for i in default.probabilities(vectors, texts).argmax(axis=1)]
    k = max(2, min(settings.k, len(examples)))
    folds = fold_of(examples, k)
    small = _per_intent(base, settings.fold_base_per_intent)
    after = [""] * len(examples)
    for fold in range(k):
        train = [i for i, f in enumerate(folds) if f != fold]
        held = [i for i, f in enumerate(folds) if f == fold]
        if not held:
            continue
        model = fit(
            small,
            [examples[i] for i in train],
            vectors[train],
            labels,
            default.embedder,
            settings.folds,
            settings.weight,
            default,
        )
        guessed = model.probabilities(vectors[held], [texts[i] for i in held]).argmax(axis=1)
        for i, row in zip(held, guessed, strict=True):
            after[i] = labels[row]
    final = fit(
        base, examples, vectors, labels, default.embedder, settings.final, settings.weight, default
    )
    return final, _metrics(truth, before, after, k)


def _per_intent(base: BaseSet, most: int) -> BaseSet:
    seen: Counter[str] = Counter()
    rows = []
    for i, example in enumerate(base.examples):
        if seen[example.intent] < most:
            rows.append(i)
            seen[example.intent] += 1
    return BaseSet([base.examples[i] for i in rows], base.vectors[rows], base.labels)


def _metrics(truth: list[str], before: list[str], after: list[str], k: int) -> dict[str, Any]:
    def accuracy(guesses: list[str], rows: list[int]) -> float:
        return round(sum(guesses[i] == truth[i] for i in rows) / len(rows), 4)

    everything = list(range(len(truth)))
    per_intent = {}
    for intent in sorted(set(truth)):
        rows = [i for i in everything if truth[i] == intent]
        per_intent[intent] = {
            "n": len(rows),
            "before": accuracy(before, rows),
            "after": accuracy(after, rows),
        }
    return {
        "before": accuracy(before, everything),
        "after": accuracy(after, everything),
        "n_examples": len(truth),
        "folds": k,
        "per_intent": per_intent,
    }


def model_to_bytes(model: IntentModel) -> bytes:
    out = io.BytesIO()
    model.save(out)
    return out.getvalue()


def model_from_bytes(weights: bytes) -> IntentModel:
    return IntentModel.load(io.BytesIO(weights))
