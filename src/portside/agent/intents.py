"""Intent recognition: a small classifier over the embedded model's sentence vectors.

The embedding model places messages of the same meaning close together in any language,
so examples written in one language teach the others too. On top of it sits a
classifier trained here with numpy (a few seconds on one core): softmax regression over
the centred vectors. A prediction whose probability is below the model's threshold is
`out_of_scope`: a message that fits no intent is not forced onto the nearest one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from portside.agent.catalogue import OUT_OF_SCOPE, Example, examples_digest

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    # The next best, for asking one short question when two intents are close.
    runner_up: str
    runner_up_confidence: float


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 500
    learning_rate: float = 0.01
    scale: float = 5.0
    l2: float = 1e-4
    threshold: float = 0.0
    seed: int = 7


@dataclass(frozen=True)
class IntentModel:
    labels: tuple[str, ...]
    mean: Vectors
    weights: Vectors
    bias: Vectors
    scale: float
    threshold: float
    embedder: str
    digest: str

    def probabilities(self, vectors: Vectors) -> Vectors:
        logits = ((vectors - self.mean) @ self.weights) * self.scale + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: Vectors = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probs

    def predict(self, vectors: Vectors) -> list[Prediction]:
        probs = self.probabilities(vectors)
        order = np.argsort(-probs, axis=1)[:, :2]
        predictions = []
        for row, (first, second) in zip(probs, order, strict=True):
            intent = self.labels[first]
            if row[first] < self.threshold:
                intent = OUT_OF_SCOPE
            predictions.append(
                Prediction(intent, float(row[first]), self.labels[second], float(row[second]))
            )
        return predictions

    def save(self, path: Path) -> None:
        meta = {
            "labels": list(self.labels),
            "scale": self.scale,
            "threshold": self.threshold,
            "embedder": self.embedder,
            "digest": self.digest,
        }
        with path.open("wb") as out:
            np.savez_compressed(
                out,
                meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                mean=self.mean,
                weights=self.weights.astype(np.float16),
                bias=self.bias,
            )

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            return cls(
                labels=tuple(meta["labels"]),
                mean=data["mean"].astype(np.float32),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                scale=float(meta["scale"]),
                threshold=float(meta["threshold"]),
                embedder=str(meta["embedder"]),
                digest=str(meta["digest"]),
            )


class IntentClassifier:
    """Text in, intent out: the model with the embedder it was trained against."""

    def __init__(self, model: IntentModel, embedder: Embedder) -> None:
        if model.embedder != embedder.name:
            raise ValueError(
                f"this intent model was trained on {model.embedder} vectors, "
                f"not {embedder.name}: train it again"
            )
        self.model = model
        self.embedder = embedder

    def classify(self, text: str) -> Prediction:
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Prediction]:
        return self.model.predict(self.embedder.embed(texts))


def train_intent_model(
    examples: Sequence[Example],
    embedder: Embedder,
    labels: Sequence[str],
    settings: TrainingSettings = TrainingSettings(),
    vectors: Vectors | None = None,
) -> IntentModel:
    """Fit the classifier to labelled examples (their vectors may be given, computed once)."""
    if vectors is None:
        vectors = embedder.embed([example.text for example in examples])
    index = {label: i for i, label in enumerate(labels)}
    targets = np.array([index[example.intent] for example in examples])
    mean = vectors.mean(axis=0).astype(np.float32)
    weights, bias = _fit_softmax(vectors - mean, targets, len(labels), settings)
    return IntentModel(
        labels=tuple(labels),
        mean=mean,
        weights=weights,
        bias=bias,
        scale=settings.scale,
        threshold=settings.threshold,
        embedder=embedder.name,
        digest=examples_digest(list(examples)),
    )


def _fit_softmax(
    x: Vectors, y: NDArray[np.int_], classes: int, settings: TrainingSettings
) -> tuple[Vectors, Vectors]:
    """Multinomial logistic regression, full batch, Adam."""
    n, dim = x.shape
    onehot = np.eye(classes, dtype=np.float32)[y]
    weights = np.zeros((dim, classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    moments = [
        np.zeros_like(weights),
        np.zeros_like(weights),
        np.zeros_like(bias),
        np.zeros_like(bias),
    ]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, settings.epochs + 1):
        logits = (x @ weights) * settings.scale + bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        error = (probs - onehot) / n
        grads = (settings.scale * (x.T @ error) + settings.l2 * weights, error.sum(axis=0))
        for k, (param, grad) in enumerate(zip((weights, bias), grads, strict=True)):
            m, v = moments[2 * k], moments[2 * k + 1]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            param -= settings.learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    return weights, bias
