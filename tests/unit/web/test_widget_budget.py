"""The widget stays small enough to load on a phone over a slow connection."""

from __future__ import annotations

import gzip
from importlib.resources import files

# The chat itself; what only some shoppers use (attachments) loads on demand from
# widget-media.js, with a budget of its own.
BUDGET_GZIPPED_BYTES = 32 * 1024


def test_widget_script_fits_its_gzipped_budget() -> None:
    script = (files("portside.web") / "static" / "widget.js").read_bytes()
    size = len(gzip.compress(script, compresslevel=9))
    assert size <= BUDGET_GZIPPED_BYTES, f"widget.js is {size} bytes gzipped"


def test_widget_script_has_no_ways_to_run_strings_as_code_or_markup() -> None:
    script = (files("portside.web") / "static" / "widget.js").read_text()
    for forbidden in ("innerHTML", "outerHTML", "eval(", "new Function", "document.write"):
        assert forbidden not in script, forbidden


MEDIA_BUDGET_GZIPPED_BYTES = 8 * 1024


def test_widget_media_script_fits_its_own_gzipped_budget() -> None:
    script = (files("portside.web") / "static" / "widget-media.js").read_bytes()
    size = len(gzip.compress(script, compresslevel=9))
    assert size <= MEDIA_BUDGET_GZIPPED_BYTES, f"widget-media.js is {size} bytes gzipped"


def test_widget_media_script_has_no_ways_to_run_strings_as_code_or_markup() -> None:
    script = (files("portside.web") / "static" / "widget-media.js").read_text()
    for forbidden in ("innerHTML", "outerHTML", "eval(", "new Function", "document.write"):
        assert forbidden not in script, forbidden


# The voice recorder, loaded by widget-media.js when a shopper presses the microphone.
VOICE_BUDGET_GZIPPED_BYTES = 4 * 1024


def test_widget_voice_script_fits_its_own_gzipped_budget() -> None:
    script = (files("portside.web") / "static" / "widget-voice.js").read_bytes()
    size = len(gzip.compress(script, compresslevel=9))
    assert size <= VOICE_BUDGET_GZIPPED_BYTES, f"widget-voice.js is {size} bytes gzipped"


def test_widget_voice_script_has_no_ways_to_run_strings_as_code_or_markup() -> None:
    script = (files("portside.web") / "static" / "widget-voice.js").read_text()
    for forbidden in ("innerHTML", "outerHTML", "eval(", "new Function", "document.write"):
        assert forbidden not in script, forbidden
