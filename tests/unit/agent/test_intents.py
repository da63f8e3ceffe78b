"""The intent classifier: training, prediction, out of scope, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.agent.catalogue import OUT_OF_SCOPE, Example
from portside.agent.intents import (
    IntentClassifier,
    IntentModel,
    TrainingSettings,
    train_intent_model,
)
from tests.support.fakes import BagOfWordsEmbedder

LABELS = ["order_status", "product_care", OUT_OF_SCOPE]
EXAMPLES = [
    Example("where is my order", "order_status", "en"),
    Example("has my order shipped yet", "order_status", "en"),
    Example("my parcel tracking order status", "order_status", "en"),
    Example("can I machine wash this", "product_care", "en"),
    Example("how do I wash and iron it", "product_care", "en"),
    Example("wash cold or warm", "product_care", "en"),
    Example("tell me a joke", OUT_OF_SCOPE, "en"),
    Example("what is the weather tomorrow", OUT_OF_SCOPE, "en"),
    Example("write me a poem", OUT_OF_SCOPE, "en"),
]


@pytest.fixture
def embedder() -> BagOfWordsEmbedder:
    return BagOfWordsEmbedder()


def test_learns_the_intents_of_its_examples(embedder: BagOfWordsEmbedder) -> None:
    model = train_intent_model(EXAMPLES, embedder, LABELS, TrainingSettings(epochs=300))
    classifier = IntentClassifier(model, embedder)

    predictions = classifier.classify_many(["where is my parcel", "can I wash it", "a joke"])

    assert [p.intent for p in predictions] == ["order_status", "product_care", OUT_OF_SCOPE]
    assert all(p.runner_up != p.intent for p in predictions)
    assert all(1 >= p.confidence >= p.runner_up_confidence >= 0 for p in predictions)


def test_a_message_it_is_not_sure_of_is_out_of_scope(embedder: BagOfWordsEmbedder) -> None:
    settings = TrainingSettings(epochs=300, threshold=0.9)
    model = train_intent_model(EXAMPLES, embedder, LABELS, settings)

    unsure = IntentClassifier(model, embedder).classify("bananas purple dinosaur")

    assert unsure.intent == OUT_OF_SCOPE
    assert unsure.confidence < 0.9


def test_a_saved_model_predicts_the_same(embedder: BagOfWordsEmbedder, tmp_path: Path) -> None:
    model = train_intent_model(EXAMPLES, embedder, LABELS, TrainingSettings(epochs=100))
    model.save(tmp_path / "model.npz")
    loaded = IntentModel.load(tmp_path / "model.npz")

    vectors = embedder.embed(["where is my order", "wash cold"])
    assert loaded.labels == model.labels and loaded.digest == model.digest
    assert [p.intent for p in loaded.predict(vectors)] == [p.intent for p in model.predict(vectors)]
    assert abs(loaded.probabilities(vectors) - model.probabilities(vectors)).max() < 1e-2


def test_a_model_only_runs_with_the_embedder_it_was_trained_on(
    embedder: BagOfWordsEmbedder,
) -> None:
    model = train_intent_model(EXAMPLES, embedder, LABELS, TrainingSettings(epochs=10))
    other = BagOfWordsEmbedder()
    other.name = "another-model"

    with pytest.raises(ValueError, match="train it again"):
        IntentClassifier(model, other)
