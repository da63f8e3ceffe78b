"""`portside eval intents` with the shipped model and the real embedded model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "bench" / "data" / "intents_heldout"


def portside(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portside.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_eval_prints_the_figures_and_ends_with_one_json_line(tmp_path: Path) -> None:
    # Two held-out messages per intent in three languages: 210 lines.
    lines = []
    for lang in ("en", "es", "zh"):
        taken: dict[str, int] = {}
        for line in (HELDOUT / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines():
            intent = json.loads(line)["intent"]
            if taken.get(intent, 0) < 2:
                taken[intent] = taken.get(intent, 0) + 1
                lines.append(line)
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = portside("eval", "intents", str(sample), "--json")

    assert done.returncode == 0, done.stderr
    assert "per language:" in done.stdout and "most confused" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["n"] == 210
    assert set(figures["per_lang"]) == {"en", "es", "zh"}
    assert len(figures["per_intent"]) == 35
    assert {"accuracy", "macro_f1", "ms_p50", "ms_p99"} <= set(figures)
    # Messages none of the examples contain, in three languages: the model must
    # generalise, not recall.
    assert figures["accuracy"] >= 0.75
    assert 0 < figures["ms_p50"] <= figures["ms_p99"]


def test_eval_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hola", "intent": "greeting", "lang": "es"}\n{"text": "x"\n')

    done = portside("eval", "intents", str(bad))

    assert done.returncode == 2
    assert "bad.jsonl, line 2: not JSON" in done.stderr
    assert done.stdout == ""
