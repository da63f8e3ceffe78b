"""Sliding-window rate limits, on a clock that only moves when told to."""

from __future__ import annotations

import pytest

from portside.clock import ManualClock
from portside.domain.ratelimit import SlidingWindowLimiter


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_hits_up_to_the_limit_are_allowed(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=3, window_s=10)
    assert [limiter.hit("visitor:1") for _ in range(3)] == [0.0, 0.0, 0.0]


def test_hit_over_the_limit_says_how_long_to_wait(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=2, window_s=10)
    limiter.hit("visitor:1")
    clock.advance(3)
    limiter.hit("visitor:1")
    clock.advance(1.5)
    # The oldest hit (4.5 s ago) leaves the window in 5.5 s.
    assert limiter.hit("visitor:1") == pytest.approx(5.5)


def test_refused_hits_do_not_count(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=1, window_s=10)
    limiter.hit("visitor:1")
    for _ in range(5):
        clock.advance(1)
        assert limiter.hit("visitor:1") > 0
    clock.advance(5)
    assert limiter.hit("visitor:1") == 0.0


def test_a_hit_leaves_the_window_exactly_window_seconds_later(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=1, window_s=10)
    limiter.hit("visitor:1")
    clock.advance(9.999)
    assert limiter.hit("visitor:1") == pytest.approx(0.001)
    clock.advance(0.001)
    assert limiter.hit("visitor:1") == 0.0


def test_window_slides_rather_than_resetting(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=2, window_s=10)
    limiter.hit("visitor:1")  # t=0
    clock.advance(6)
    limiter.hit("visitor:1")  # t=6
    clock.advance(4)
    # t=10: the first hit has left the window, the second has not.
    assert limiter.hit("visitor:1") == 0.0
    clock.advance(1)
    # t=11: hits at 6 and 10 are in the window; the one at 6 leaves at 16.
    assert limiter.hit("visitor:1") == pytest.approx(5.0)


def test_keys_are_limited_independently(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=1, window_s=10)
    assert limiter.hit("visitor:1") == 0.0
    assert limiter.hit("visitor:1") > 0
    assert limiter.hit("visitor:2") == 0.0
    assert limiter.hit("ip:203.0.113.5") == 0.0


def test_idle_keys_are_forgotten_when_max_keys_is_reached(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=5, window_s=10, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit(key)
    clock.advance(10)
    limiter.hit("d")
    # Memory stays bounded: a, b and c have no hit left in the window.
    assert set(limiter._hits) == {"d"}


def test_active_keys_are_kept_when_max_keys_is_reached(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=1, window_s=10, max_keys=2)
    limiter.hit("idle")
    clock.advance(5)
    limiter.hit("busy")
    clock.advance(5)
    limiter.hit("new")  # "idle" is now out of its window; "busy" is not
    assert set(limiter._hits) == {"busy", "new"}
    assert limiter.hit("busy") == pytest.approx(5.0)


def test_keys_are_not_forgotten_below_max_keys(clock: ManualClock) -> None:
    limiter = SlidingWindowLimiter(clock, limit=1, window_s=10, max_keys=10)
    limiter.hit("a")
    clock.advance(60)
    limiter.hit("b")
    assert set(limiter._hits) == {"a", "b"}
