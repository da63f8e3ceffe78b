"""Suggested replies: the store's entries for an intent, in the shopper's language."""

from __future__ import annotations

from typing import Any

from portside.agent.suggestions import choose_entries

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "returns-window",
        "intents": ["returns_policy"],
        "title": {"en": "Returns", "es": "Devoluciones"},
        "text": {"en": "45 days to return.", "es": "45 días para devolver."},
    },
    {
        "id": "return-costs",
        "intents": ["returns_policy", "refund_status"],
        "title": {"de": "Rücksendekosten"},
        "text": {"de": "Rücksendungen sind kostenlos."},
    },
    {
        "id": "shipping",
        "intents": ["shipping_info"],
        "title": {"en": "Shipping"},
        "text": {"en": "3-5 days."},
    },
]


def test_entries_for_the_intent_come_in_the_shoppers_language() -> None:
    chosen = choose_entries(ENTRIES, ["returns_policy"], "es", "en")
    assert [(c["id"], c["language"], c["in_shopper_language"]) for c in chosen] == [
        ("returns-window", "es", True),
        ("return-costs", "de", False),
    ]
    assert chosen[0]["text"] == "45 días para devolver."
    assert chosen[0]["title"] == "Devoluciones"


def test_without_the_shoppers_language_the_stores_comes_first_then_english() -> None:
    (first, _) = choose_entries(ENTRIES, ["returns_policy"], "ja", "es")
    assert (first["language"], first["text"]) == ("es", "45 días para devolver.")
    (first, _) = choose_entries(ENTRIES, ["returns_policy"], "ja", "ko")
    assert first["language"] == "en"


def test_no_intent_or_no_entry_suggests_nothing_and_the_limit_holds() -> None:
    assert choose_entries(ENTRIES, [], "en", "en") == []
    assert choose_entries(ENTRIES, ["size_advice"], "en", "en") == []
    assert len(choose_entries(ENTRIES, ["returns_policy", "shipping_info"], "en", "en", 2)) == 2
