"""The intent model every store starts with, trained on the catalogue's own examples.

It is built by `make model` (`portside build-intent-model`) and shipped in the package,
so a fresh install understands shoppers at once: embedding the ~14,500 examples takes
three to four minutes, which no one should wait for at start-up. The model records a digest of
the examples it learnt from; a test fails if they have changed since.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from portside.agent.catalogue import default_examples, default_intents
from portside.agent.intents import (
    Embedder,
    IntentClassifier,
    IntentModel,
    TrainingSettings,
    Vectors,
    train_intent_model,
)

SETTINGS = TrainingSettings()


def model_path() -> Path:
    return Path(str(resources.files("portside.agent") / "data" / "intent_model.npz"))


def load_default_classifier(embedder: Embedder) -> IntentClassifier:
    return IntentClassifier(IntentModel.load(model_path()), embedder)


def build_default_model(embedder: Embedder, known: dict[str, Vectors] | None = None) -> IntentModel:
    """Trained on the catalogue's examples; `known` vectors (by text, those shipped for
    stores' retraining) spare embedding them again: only new texts are embedded."""
    examples = default_examples()
    known = dict(known or {})
    missing = list(dict.fromkeys(e.text for e in examples if e.text not in known))
    for start in range(0, len(missing), 64):
        chunk = missing[start : start + 64]
        known.update(zip(chunk, embedder.embed(chunk), strict=True))
    vectors = np.stack([known[example.text] for example in examples]).astype(np.float32)
    return train_intent_model(
        examples, embedder, list(default_intents()), SETTINGS, vectors=vectors
    )
