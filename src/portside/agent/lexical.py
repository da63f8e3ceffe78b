"""The words themselves: a linear model on character n-grams, beside the embeddings.

Sentence embeddings catch what a message means across languages, but blur the short
words that decide an intent in colloquial writing ("退款" against "退货", "trocar"
against "troco"). Character 1- to 4-grams, hashed (no vocabulary to ship), weighted by
tf-idf, and a logistic regression over them see those words; the intent model combines
both (`intents.py`). Cross-validated on the training examples, the two together are
about two points more accurate than the embeddings alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

FEATURES = 2**14
# Iterations of a warm-started fit (measured: the loss barely moves after these).
WARM_ITERATIONS = 40
# A label the model never saw in training (a store's intent with no examples yet).
UNSEEN_BIAS = -30.0

Matrix = NDArray[np.float32]


@cache
def _hasher() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 4),
        n_features=FEATURES,
        alternate_sign=False,
        norm=None,
        lowercase=True,
    )


@dataclass(frozen=True, eq=False)
class LexicalModel:
    idf: Matrix  # (FEATURES,)
    coef: Matrix  # (labels, FEATURES)
    bias: Matrix  # (labels,)

    @cached_property
    def _weights(self) -> Matrix:
        """The weights as (FEATURES, labels), contiguous: transposed once, not a call."""
        return np.ascontiguousarray(self.coef.T)

    def log_probabilities(self, texts: Sequence[str]) -> Matrix:
        x = _weighted(_hasher().transform(texts), self.idf)
        logits = np.asarray(x @ self._weights, dtype=np.float32) + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        result: Matrix = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return result


def train_lexical(
    texts: Sequence[str],
    targets: NDArray[np.int_],
    labels: int,
    strength: float,
    start: LexicalModel | None = None,
) -> LexicalModel:
    """Fitted to the texts; with `start` (rows in the order of the new labels, zero for
    new ones), from its weights and idf: a few iterations then do (a store's retraining,
    in seconds rather than a minute)."""
    counts = _hasher().transform(texts)
    if start is None:
        idf = TfidfTransformer(sublinear_tf=True).fit(counts).idf_.astype(np.float32)
    else:
        idf = start.idf
    x = _weighted(counts, idf)
    regression = LogisticRegression(
        C=strength, max_iter=300 if start is None else WARM_ITERATIONS, warm_start=True
    )
    present = np.unique(targets)
    if start is not None and len(present) > 2:
        regression.coef_ = start.coef[present].astype(np.float64)
        regression.intercept_ = np.where(
            start.bias[present] <= UNSEEN_BIAS, 0.0, start.bias[present]
        ).astype(np.float64)
    with warnings.catch_warnings():
        # A warm start stops after a few iterations on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = regression.fit(x, targets)
    coef = np.zeros((labels, FEATURES), dtype=np.float32)
    bias = np.full(labels, UNSEEN_BIAS, dtype=np.float32)
    seen = fitted.classes_.astype(int)
    if len(seen) == 2:
        # Two classes: scikit-learn keeps one row of weights, for the second class.
        coef[seen[1]] = fitted.coef_[0]
        bias[seen[1]] = fitted.intercept_[0]
        bias[seen[0]] = 0.0
    else:
        coef[seen] = fitted.coef_
        bias[seen] = fitted.intercept_
    return LexicalModel(idf=idf, coef=coef, bias=bias)


def _weighted(counts: Any, idf: Matrix) -> Any:
    """The n-gram counts as sublinear tf-idf rows of unit length, as the regression was
    fitted on."""
    x = counts.astype(np.float32)
    x.data = (1 + np.log(x.data)) * idf[x.indices]
    return normalize(x, copy=False)
