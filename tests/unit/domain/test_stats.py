"""Percentiles, Wilson's interval and Newcombe's interval for a difference, against
published figures."""

from __future__ import annotations

import pytest

from portside.domain.stats import newcombe_interval, percentile, summarise, wilson_interval


def test_percentiles_interpolate_between_the_nearest_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert percentile([7.0], 0.9) == 7.0


def test_a_summary_of_nothing_has_no_figures() -> None:
    empty = summarise([])
    assert (empty.n, empty.p50, empty.p90, empty.mean) == (0, None, None, None)
    some = summarise([30.0, 10.0, 20.0])
    assert (some.n, some.p50, some.mean) == (3, 20.0, 20.0)


def test_wilson_interval_matches_newcombes_table() -> None:
    # Newcombe (1998), Table II: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4)
    assert high == pytest.approx(0.3662, abs=1e-4)
    # At the edges it stays inside [0, 1] and touches them.
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0


def test_newcombe_hybrid_interval_matches_the_paper() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    difference, low, high = newcombe_interval(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert low == pytest.approx(0.0524, abs=1e-4)
    assert high == pytest.approx(0.3339, abs=1e-4)
    # Example (d): 10/10 - 0/20: 0.6791 to 1.0000.
    _, low, high = newcombe_interval(10, 10, 0, 20)
    assert low == pytest.approx(0.6791, abs=1e-4)
    assert high == pytest.approx(1.0, abs=1e-4)


def test_an_empty_group_has_no_interval() -> None:
    with pytest.raises(ValueError, match="no proportion"):
        newcombe_interval(1, 5, 0, 0)
