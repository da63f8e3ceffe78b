"""The intent catalogue every store starts with, and its training examples.

`data/intents.yaml` names each intent, what it covers and where its border with its
neighbours lies. `data/intents/<lang>.jsonl` holds the examples the default model learns
from: written for Portside by hand in ten languages and many registers, one
`{"text", "intent", "lang"}` object a line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    lang: str


class ExampleFileError(ValueError):
    """A line of an examples file that cannot be used; the message says which and why."""


def _data() -> Path:
    return Path(str(resources.files("portside.agent") / "data"))


@cache
def default_intents() -> dict[str, str]:
    """Intent label -> what it covers, in catalogue order."""
    groups = yaml.safe_load((_data() / "intents.yaml").read_text(encoding="utf-8"))
    intents: dict[str, str] = {}
    for group in groups.values():
        for label, meaning in group.items():
            intents[label] = " ".join(str(meaning).split())
    return intents


def default_example_files() -> list[Path]:
    return sorted((_data() / "intents").glob("*.jsonl"))


def default_examples() -> list[Example]:
    examples: list[Example] = []
    for path in default_example_files():
        examples.extend(read_examples(path, set(default_intents())))
    return examples


def examples_digest(examples: list[Example]) -> str:
    """A fingerprint of training data: a model records the data it was trained on."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.text, example.intent, example.lang]).encode())
    return digest.hexdigest()[:16]


def read_examples(path: Path, labels: set[str]) -> list[Example]:
    """Read a JSON Lines file of labelled messages; raises ExampleFileError on a bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ExampleFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ExampleFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    examples: list[Example] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExampleFileError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ExampleFileError(f'{where}: expected an object {{"text", "intent", "lang"}}')
        text, intent, lang = row.get("text"), row.get("intent"), row.get("lang")
        if not isinstance(text, str) or not text.strip():
            raise ExampleFileError(f'{where}: "text" must be a non-empty string')
        if not isinstance(intent, str) or intent not in labels:
            raise ExampleFileError(
                f'{where}: "intent" {intent!r} is not in the catalogue '
                f"(for example {', '.join(sorted(labels)[:4])}, ...)"
            )
        if not isinstance(lang, str) or not lang.strip():
            raise ExampleFileError(f'{where}: "lang" must be a language code such as "en"')
        examples.append(Example(text.strip(), intent, lang.strip().lower()))
    if not examples:
        raise ExampleFileError(f"{path}: no examples in it")
    return examples
