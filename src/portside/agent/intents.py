"""Intent recognition: a small classifier over the embedded model's sentence vectors.

The embedding model places messages of the same meaning close together in any language,
so examples written in one language teach the others too. On top of it sits a small
neural network trained here with numpy (about ten seconds on one core): the vectors,
centred and scaled, go through one hidden layer of 512 units; three of them trained
from different seeds vote. Chosen by 5-fold cross-validation on the training examples
over softmax regression (83% there), nearest neighbours (75%) and blends. `out_of_scope`
is learnt as an intent of its own; a probability threshold that turns unsure
predictions into it is there, but cross-validation found none that helped. Beside the
networks, a model of the message's character n-grams (lexical.py) is combined with
them in log space.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
from numpy.typing import NDArray

from portside.agent.catalogue import OUT_OF_SCOPE, Example, examples_digest
from portside.agent.lexical import UNSEEN_BIAS, LexicalModel, train_lexical

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
    hidden: int = 512
    # Centred e5 vectors vary by ~0.02 a dimension; scaled up, Adam fits them well.
    scale: float = 20.0
    dropout: float = 0.5
    learning_rate: float = 3e-3
    epochs: int = 20
    batch: int = 128
    seeds: int = 3
    threshold: float = 0.0
    # How much the character n-gram model (lexical.py) weighs against the embeddings'
    # networks, in log space; 0 leaves it out. Chosen by cross-validation on the
    # training examples (0.4: +2 points), never on the held-out sets.
    lexical_weight: float = 0.4
    lexical_strength: float = 10.0


# One network: hidden weights and bias, output weights and bias.
Layers = tuple[Vectors, Vectors, Vectors, Vectors]


@dataclass(frozen=True)
class IntentModel:
    labels: tuple[str, ...]
    mean: Vectors
    scale: float
    networks: tuple[Layers, ...]
    threshold: float
    embedder: str
    digest: str
    lexical: LexicalModel | None = None
    lexical_weight: float = 0.0

    def probabilities(self, vectors: Vectors, texts: Sequence[str] | None = None) -> Vectors:
        """The intents' probabilities: the networks' average, and with `texts` (the
        messages the vectors are of) combined with the n-gram model's in log space, a
        product of the two that stays as sure as either when they agree."""
        x = (vectors - self.mean) * self.scale
        votes = [_softmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2) for w1, b1, w2, b2 in self.networks]
        probs: Vectors = np.mean(votes, axis=0).astype(np.float32)
        if self.lexical is None or texts is None or not self.lexical_weight:
            return probs
        weight = self.lexical_weight
        mixed = (1 - weight) * np.log(probs + 1e-9) + weight * self.lexical.log_probabilities(texts)
        result: Vectors = _softmax(mixed).astype(np.float32)
        return result

    def predict(self, vectors: Vectors, texts: Sequence[str] | None = None) -> list[Prediction]:
        probs = self.probabilities(vectors, texts)
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

    def save(self, path: Path | BinaryIO) -> None:
        meta = {
            "labels": list(self.labels),
            "scale": self.scale,
            "threshold": self.threshold,
            "embedder": self.embedder,
            "digest": self.digest,
            "networks": len(self.networks),
            "lexical_weight": self.lexical_weight if self.lexical is not None else 0.0,
        }
        arrays: dict[str, NDArray[np.generic]] = {
            f"n{i}_{k}": layer.astype(np.float16)
            for i, layers in enumerate(self.networks)
            for k, layer in enumerate(layers)
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        arrays["mean"] = self.mean
        if self.lexical is not None:
            arrays["lex_idf"] = self.lexical.idf
            arrays["lex_coef"] = self.lexical.coef.astype(np.float16)
            arrays["lex_bias"] = self.lexical.bias
        if not isinstance(path, Path):
            np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
            return
        with path.open("wb") as out:
            np.savez_compressed(out, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path | BinaryIO) -> IntentModel:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            networks = tuple(
                tuple(data[f"n{i}_{k}"].astype(np.float32) for k in range(4))
                for i in range(int(meta["networks"]))
            )
            lexical = None
            if "lex_coef" in data:
                lexical = LexicalModel(
                    idf=data["lex_idf"].astype(np.float32),
                    coef=data["lex_coef"].astype(np.float32),
                    bias=data["lex_bias"].astype(np.float32),
                )
            return cls(
                labels=tuple(meta["labels"]),
                mean=data["mean"].astype(np.float32),
                scale=float(meta["scale"]),
                networks=networks,
                threshold=float(meta["threshold"]),
                embedder=str(meta["embedder"]),
                digest=str(meta["digest"]),
                lexical=lexical,
                lexical_weight=float(meta.get("lexical_weight", 0.0)),
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
        return self.model.predict(self.embedder.embed(texts), texts)


def train_intent_model(
    examples: Sequence[Example],
    embedder: Embedder,
    labels: Sequence[str],
    settings: TrainingSettings = TrainingSettings(),
    vectors: Vectors | None = None,
    start: IntentModel | None = None,
) -> IntentModel:
    """Fit the classifier to labelled examples (their vectors may be given, computed once).

    With `start`, each network begins from one of that model's (labels it lacks get new
    outputs) instead of from random weights: a few epochs then do (agent/learning.py).
    """
    if vectors is None:
        vectors = embedder.embed([example.text for example in examples])
    index = {label: i for i, label in enumerate(labels)}
    targets = np.array([index[example.intent] for example in examples])
    mean = vectors.mean(axis=0).astype(np.float32) if start is None else start.mean
    scale = settings.scale if start is None else start.scale
    x = ((vectors - mean) * scale).astype(np.float32)
    networks = tuple(
        _fit_network(
            x,
            targets,
            len(labels),
            settings,
            seed,
            None if start is None else _extended(start, seed, labels),
        )
        for seed in range(settings.seeds)
    )
    lexical = None
    if settings.lexical_weight:
        lexical = train_lexical(
            [example.text for example in examples],
            targets,
            len(labels),
            settings.lexical_strength,
            None if start is None else _extended_lexical(start, labels),
        )
    return IntentModel(
        labels=tuple(labels),
        mean=mean,
        scale=scale,
        networks=networks,
        threshold=settings.threshold,
        embedder=embedder.name,
        digest=examples_digest(list(examples)),
        lexical=lexical,
        lexical_weight=settings.lexical_weight if lexical is not None else 0.0,
    )


def _extended(start: IntentModel, seed: int, labels: Sequence[str]) -> Layers:
    """A copy of one of `start`'s networks with outputs for `labels` (new ones zero)."""
    w1, b1, w2, b2 = start.networks[seed % len(start.networks)]
    known = {label: i for i, label in enumerate(start.labels)}
    out_w = np.zeros((w2.shape[0], len(labels)), dtype=np.float32)
    out_b = np.full(len(labels), b2.min(), dtype=np.float32)
    for i, label in enumerate(labels):
        if label in known:
            out_w[:, i] = w2[:, known[label]]
            out_b[i] = b2[known[label]]
    return w1.copy(), b1.copy(), out_w, out_b


def _extended_lexical(start: IntentModel, labels: Sequence[str]) -> LexicalModel | None:
    """`start`'s n-gram model with rows for `labels` (new ones zero, unseen bias)."""
    if start.lexical is None:
        return None
    known = {label: i for i, label in enumerate(start.labels)}
    coef = np.zeros((len(labels), start.lexical.coef.shape[1]), dtype=np.float32)
    bias = np.full(len(labels), UNSEEN_BIAS, dtype=np.float32)
    for i, label in enumerate(labels):
        if label in known:
            coef[i] = start.lexical.coef[known[label]]
            bias[i] = start.lexical.bias[known[label]]
    return LexicalModel(idf=start.lexical.idf, coef=coef, bias=bias)


def _softmax(logits: Vectors) -> Vectors:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: Vectors = exp / exp.sum(axis=1, keepdims=True)
    return result


def _fit_network(
    x: Vectors,
    y: NDArray[np.int_],
    classes: int,
    settings: TrainingSettings,
    seed: int,
    initial: Layers | None = None,
) -> Layers:
    """One hidden layer (ReLU, dropout), softmax out; Adam, mini-batches, cosine decay."""
    rng = np.random.default_rng(seed)
    n, dim = x.shape
    hidden, keep = settings.hidden, 1 - settings.dropout
    params = [
        (rng.standard_normal((dim, hidden)) * np.sqrt(2 / dim)).astype(np.float32),
        np.zeros(hidden, dtype=np.float32),
        (rng.standard_normal((hidden, classes)) * np.sqrt(1 / hidden)).astype(np.float32),
        np.zeros(classes, dtype=np.float32),
    ]
    if initial is not None:
        params = [layer.astype(np.float32) for layer in initial]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    onehot = np.eye(classes, dtype=np.float32)[y]
    steps = settings.epochs * -(-n // settings.batch)
    step = 0
    for _ in range(settings.epochs):
        order = rng.permutation(n)
        for start in range(0, n, settings.batch):
            batch = order[start : start + settings.batch]
            xb = x[batch]
            w1, b1, w2, b2 = params
            pre = xb @ w1 + b1
            mask = ((rng.random(pre.shape) < keep) / keep).astype(np.float32)
            act = np.maximum(pre, 0) * mask
            error = (_softmax(act @ w2 + b2) - onehot[batch]) / len(batch)
            back = (error @ w2.T) * mask * (pre > 0)
            grads = [xb.T @ back, back.sum(axis=0), act.T @ error, error.sum(axis=0)]
            step += 1
            rate = settings.learning_rate * 0.5 * (1 + np.cos(np.pi * (step - 1) / steps))
            for param, grad, m, v in zip(params, grads, first, second, strict=True):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                param -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params[0], params[1], params[2], params[3]
