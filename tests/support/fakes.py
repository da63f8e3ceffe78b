"""Hand-written fakes of our own ports."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


class BagOfWordsEmbedder:
    """Words hashed into a small unit vector: shared words, close vectors."""

    name = "bag-of-words-64"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls += 1
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.strip("?!.,").encode(), digest_size=2).digest()
                vectors[row, int.from_bytes(digest, "big") % self.dim] += 1.0
            norm = float(np.linalg.norm(vectors[row]))
            if norm:
                vectors[row] /= norm
        return vectors
