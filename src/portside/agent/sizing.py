"""Size advice from the product's size chart: the shopper's measurement, or their usual size.

The chart gives the garment's own measurements; a body measurement needs some room on
top to fit (`EASE_CM`), so the advice is the smallest size whose chest (or bust, or
waist) is at least the shopper's plus that room. Measurements in inches are converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portside.agent.replies import Replies
from portside.agent.returns import pick_size
from portside.agent.steps import clean, mentions

# Room a garment needs over the body to fit comfortably, by measurement.
EASE_CM = {"chest": 6.0, "waist": 2.0}
# The chart's columns that a body measurement is compared with.
CHART_KEYS = {"chest": ("chest_cm", "bust_cm"), "waist": ("waist_cm",)}
INCH_CM = 2.54
# What a body measurement can be, in cm: anything else is some other number.
PLAUSIBLE_CM = (40.0, 200.0)
_NUMBER = r"(\d{2,3}(?:[.,]\d)?)"
_INCHES = (
    r"(?:in|inch|inches|\"|″|''|zoll|pouces?|pulgadas?|polegadas?|インチ|英寸|인치|بوصة|дюйм\w*)"
)
_MEASURE = re.compile(rf"{_NUMBER}\s*({_INCHES}|cm|厘米|公分|センチ|센티|سم|см)?", re.IGNORECASE)


@dataclass(frozen=True)
class Measure:
    kind: str  # "chest" or "waist"
    cm: float


def read_measure(
    replies: Replies, lang: str, text: str, *, expected: bool = False
) -> Measure | None:
    """A body measurement in the message ("my chest is 96 cm", "胸围96", "waist 30
    inches"). With `expected` (the bot just asked for one), a bare number is a chest."""
    cleaned = clean(text)
    kind = None
    for name, words in replies.choices(lang, "measure_words").items():
        if any(mentions(cleaned, word) is not None for word in words):
            kind = name
            break
    if kind is None and not expected:
        return None
    for match in _MEASURE.finditer(text):
        value = float(match.group(1).replace(",", "."))
        unit = (match.group(2) or "").lower()
        cm = (
            value * INCH_CM
            if unit and unit not in ("cm", "厘米", "公分", "センチ", "센티", "سم", "см")
            else value
        )
        if PLAUSIBLE_CM[0] <= cm <= PLAUSIBLE_CM[1]:
            return Measure(kind or "chest", round(cm, 1))
    return None


def advise(product: dict[str, Any], measure: Measure) -> tuple[str, float, bool] | None:
    """(size, the garment's measurement there, whether it fits) for the measurement;
    the largest size and False when even that is too small; None without a chart."""
    chart: dict[str, dict[str, float]] = product.get("size_chart") or {}
    key = next(
        (k for k in CHART_KEYS[measure.kind] if any(k in row for row in chart.values())), None
    )
    if key is None:
        return None
    rows = [
        (size, float(chart[size][key])) for size in product["sizes"] if key in chart.get(size, {})
    ]
    if not rows:
        return None
    needed = measure.cm + EASE_CM[measure.kind]
    for size, garment in rows:
        if garment >= needed:
            return size, garment, True
    size, garment = rows[-1]
    return size, garment, False


class SizeAdvice:
    def __init__(self, replies: Replies, name: Any, dimension: Any) -> None:
        # `name(product, lang)` and `dimension(key, lang)` come from the product answers.
        self.replies = replies
        self.name = name
        self.dimension = dimension

    def answer(
        self, product: dict[str, Any], lang: str, text: str, *, expected: bool = False
    ) -> str | None:
        """Advice for the size to take, or None when the message gives nothing to go on."""
        measure = read_measure(self.replies, lang, text, expected=expected)
        if measure is not None:
            found = advise(product, measure)
            if found is None:
                return None
            size, garment, fits = found
            key = "size_advice" if fits else "size_advice_too_small"
            return self.replies.say(
                lang,
                key,
                measure=self.replies.phrase(lang, "measure_names", measure.kind),
                value=_number(measure.cm),
                size=size,
                product=self.name(product, lang),
                garment=_number(garment),
            )
        usual = pick_size(text, list(product.get("sizes") or []))
        chart = (product.get("size_chart") or {}).get(usual or "")
        if usual is None or not chart:
            return None
        measures = ", ".join(
            f"{self.dimension(key, lang)} {_number(float(value))} cm"
            for key, value in chart.items()
        )
        return self.replies.say(
            lang, "size_usual", size=usual, product=self.name(product, lang), measures=measures
        )


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"
