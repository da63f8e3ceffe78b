"""`portside eval intents FILE.jsonl`: the default model on a labelled file.

Every line is classified on its own, as a message arriving in a chat would be, with
the model as shipped: nothing in FILE is learnt from.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from portside.agent.catalogue import default_intents, read_examples
from portside.agent.default_model import load_default_classifier
from portside.agent.evaluation import Scored, report
from portside.agent.intents import Embedder


def evaluate_file(path: Path, embedder: Embedder) -> dict[str, Any]:
    examples = read_examples(path, set(default_intents()))
    classifier = load_default_classifier(embedder)
    classifier.classify("warm-up")  # the first call maps the weights in
    results = []
    for example in examples:
        started = time.perf_counter()
        prediction = classifier.classify(example.text)
        ms = (time.perf_counter() - started) * 1000
        results.append(Scored(example.intent, prediction.intent, example.lang, ms))
    return report(results)
