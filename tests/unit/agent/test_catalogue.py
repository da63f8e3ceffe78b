"""The catalogue, its shipped examples and the model trained on them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from portside.agent.catalogue import (
    OUT_OF_SCOPE,
    ExampleFileError,
    default_example_files,
    default_examples,
    default_intents,
    examples_digest,
    read_examples,
)
from portside.agent.default_model import model_path
from portside.agent.intents import IntentModel

LANGUAGES = {"en", "zh", "es", "de", "fr", "ja", "pt", "ko", "ar", "ru"}


def test_the_catalogue_has_its_35_intents() -> None:
    intents = default_intents()
    assert len(intents) == 35
    assert OUT_OF_SCOPE in intents and "human_agent" in intents
    assert all(meaning for meaning in intents.values())


def test_every_language_has_examples_of_every_intent() -> None:
    examples = default_examples()
    assert {path.stem for path in default_example_files()} == LANGUAGES
    per_language = Counter((e.lang, e.intent) for e in examples)
    for lang in LANGUAGES:
        for intent in default_intents():
            assert per_language[lang, intent] >= 20, (lang, intent)


def test_the_shipped_model_was_trained_on_the_shipped_examples() -> None:
    model = IntentModel.load(model_path())
    assert model.labels == tuple(default_intents())
    # If this fails, the examples changed: run `make model` and commit the result.
    assert model.digest == examples_digest(default_examples())


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("not json", "line 2: not JSON"),
        ('["a list"]', "line 2: expected an object"),
        ('{"text": "", "intent": "greeting", "lang": "en"}', 'line 2: "text" must be'),
        ('{"text": "hi", "intent": "gossip", "lang": "en"}', "line 2: \"intent\" 'gossip' is not"),
        ('{"text": "hi", "intent": "greeting"}', 'line 2: "lang" must be'),
    ],
)
def test_a_bad_line_is_named_with_what_is_wrong(tmp_path: Path, line: str, complaint: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"text": "hello", "intent": "greeting", "lang": "en"}\n' + line + "\n")
    with pytest.raises(ExampleFileError, match=complaint.replace("(", r"\(")):
        read_examples(path, set(default_intents()))


def test_a_missing_or_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExampleFileError, match="no such file"):
        read_examples(tmp_path / "nope.jsonl", {"greeting"})
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(ExampleFileError, match="no examples"):
        read_examples(tmp_path / "empty.jsonl", {"greeting"})
