"""Accuracy of intent predictions: overall, per language, per intent, macro-F1, confusions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scored:
    expected: str
    predicted: str
    lang: str
    ms: float


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def report(results: Sequence[Scored], *, confused: int = 10) -> dict[str, Any]:
    """The figures `portside eval intents` prints (docs/agent.md)."""
    hits = [r.expected == r.predicted for r in results]
    by_lang: dict[str, list[bool]] = defaultdict(list)
    by_intent: dict[str, list[bool]] = defaultdict(list)
    for result, hit in zip(results, hits, strict=True):
        by_lang[result.lang].append(hit)
        by_intent[result.expected].append(hit)
    pairs = Counter((r.expected, r.predicted) for r in results if r.expected != r.predicted)
    latencies = sorted(r.ms for r in results)
    return {
        "n": len(results),
        "accuracy": _ratio(hits),
        "macro_f1": round(_macro_f1(results), 4),
        "per_lang": {lang: _ratio(v) for lang, v in sorted(by_lang.items())},
        "per_intent": {intent: _ratio(v) for intent, v in sorted(by_intent.items())},
        "confused": [
            {"expected": e, "predicted": p, "count": n} for (e, p), n in pairs.most_common(confused)
        ],
        "ms_p50": round(percentile(latencies, 50), 2),
        "ms_p99": round(percentile(latencies, 99), 2),
    }


def render(figures: dict[str, Any]) -> str:
    """The report as text for a person."""
    lines = [
        f"{figures['n']} messages: accuracy {figures['accuracy']:.1%}, "
        f"macro-F1 {figures['macro_f1']:.3f}, "
        f"{figures['ms_p50']} ms p50 / {figures['ms_p99']} ms p99 per message",
        "",
        "per language:",
        *(f"  {lang:<6} {acc:.1%}" for lang, acc in figures["per_lang"].items()),
        "",
        "per intent:",
        *(f"  {intent:<20} {acc:.1%}" for intent, acc in figures["per_intent"].items()),
    ]
    if figures["confused"]:
        lines += ["", "most confused (expected -> predicted):"]
        lines += [
            f"  {c['count']:>4}  {c['expected']} -> {c['predicted']}" for c in figures["confused"]
        ]
    return "\n".join(lines)


def _ratio(values: Sequence[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _macro_f1(results: Sequence[Scored]) -> float:
    labels = {r.expected for r in results}  # the intents the file covers
    scores = []
    for label in labels:
        tp = sum(1 for r in results if r.expected == label and r.predicted == label)
        fp = sum(1 for r in results if r.expected != label and r.predicted == label)
        fn = sum(1 for r in results if r.expected == label and r.predicted != label)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0
