"""The figures of an intent evaluation."""

from __future__ import annotations

from portside.agent.evaluation import Scored, render, report


def test_report_counts_accuracy_per_language_and_intent_and_confusions() -> None:
    results = [
        Scored("order_status", "order_status", "en", 10.0),
        Scored("order_status", "delivery_problem", "es", 12.0),
        Scored("delivery_problem", "delivery_problem", "es", 11.0),
        Scored("greeting", "greeting", "en", 30.0),
    ]

    figures = report(results)

    assert figures["n"] == 4
    assert figures["accuracy"] == 0.75
    assert figures["per_lang"] == {"en": 1.0, "es": 0.5}
    assert figures["per_intent"] == {
        "delivery_problem": 1.0,
        "greeting": 1.0,
        "order_status": 0.5,
    }
    assert figures["confused"] == [
        {"expected": "order_status", "predicted": "delivery_problem", "count": 1}
    ]
    # F1: order_status 2/3, delivery_problem 2/3, greeting 1.
    assert abs(figures["macro_f1"] - (2 / 3 + 2 / 3 + 1) / 3) < 1e-3
    assert (figures["ms_p50"], figures["ms_p99"]) == (11.0, 30.0)
    assert "accuracy 75.0%" in render(figures)
