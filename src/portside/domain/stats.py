"""The statistics the analytics use: percentiles of durations, shares, and confidence
intervals for proportions and for a difference of two proportions.

Pure: standard library only. The intervals are the ones the literature recommends for
the small samples a store's trigger rules produce (a few dozen visitors in a holdout):
Wilson's score interval for one proportion, and Newcombe's hybrid score interval (his
"method 10", built from two Wilson intervals) for a difference of two independent
proportions. Both stay inside [0, 1] (resp. [-1, 1]) and behave at 0 and 100 %, where the
textbook Wald interval collapses.

    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95 %: the 0.975 quantile of the standard normal distribution.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Durations:
    """How many durations (seconds) there were, and their median, 90th percentile and
    mean; None for each figure when there were none."""

    n: int
    p50: float | None
    p90: float | None
    mean: float | None


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th quantile (0 <= q <= 1) of values sorted ascending, by linear interpolation
    between the two nearest ranks (the "linear" method of Hyndman and Fan's type 7, as
    spreadsheets and numpy compute it): the median of [1, 2, 3, 4] is 2.5."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def summarise(seconds: Sequence[float]) -> Durations:
    if not seconds:
        return Durations(0, None, None, None)
    ordered = sorted(seconds)
    return Durations(
        n=len(ordered),
        p50=percentile(ordered, 0.5),
        p90=percentile(ordered, 0.9),
        mean=math.fsum(ordered) / len(ordered),
    )


def share(count: int, of: int) -> float | None:
    """count / of, None when there is nothing to divide by."""
    return count / of if of else None


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a proportion successes / n (n > 0)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"no proportion {successes}/{n}")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Exact at the edges, whatever the rounding.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def newcombe_interval(
    successes_1: int, n_1: int, successes_2: int, n_2: int, z: float = Z_95
) -> tuple[float, float, float]:
    """The difference p1 - p2 of two independent proportions and Newcombe's hybrid score
    interval for it: (difference, low, high). Both groups need at least one member."""
    p1 = successes_1 / n_1 if n_1 > 0 else math.nan
    p2 = successes_2 / n_2 if n_2 > 0 else math.nan
    low_1, high_1 = wilson_interval(successes_1, n_1, z)
    low_2, high_2 = wilson_interval(successes_2, n_2, z)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - low_1) ** 2 + (high_2 - p2) ** 2)
    high = difference + math.sqrt((high_1 - p1) ** 2 + (p2 - low_2) ** 2)
    return difference, max(-1.0, low), min(1.0, high)
