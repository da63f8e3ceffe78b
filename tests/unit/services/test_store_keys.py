"""A node's short-lived copy of stores found by their widget key."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portside.clock import ManualClock
from portside.services import store_keys
from portside.services.store_keys import CACHE_S, StoreKeyCache


def test_a_store_is_kept_for_a_few_seconds_and_then_read_again() -> None:
    clock = ManualClock()
    cache = StoreKeyCache(clock)
    store = SimpleNamespace(id=7, widget_key="pk_a")
    assert cache.get("pk_a") is None
    cache.put("pk_a", store)
    clock.advance(CACHE_S - 0.5)
    assert cache.get("pk_a") is store
    clock.advance(0.5)
    assert cache.get("pk_a") is None
    assert CACHE_S <= 5  # what docs/operating.md promises for changes on other nodes


def test_a_changed_store_is_forgotten_by_its_id() -> None:
    cache = StoreKeyCache(ManualClock())
    cache.put("pk_a", SimpleNamespace(id=7))
    cache.put("pk_b", SimpleNamespace(id=8))
    cache.forget(7)
    assert cache.get("pk_a") is None
    assert cache.get("pk_b").id == 8


def test_the_cache_keeps_a_bounded_number_of_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_keys, "CACHED_KEYS", 3)
    clock = ManualClock()
    cache = StoreKeyCache(clock)
    for n in range(5):
        cache.put(f"pk_{n}", SimpleNamespace(id=n))
        clock.advance(0.1)
    assert [cache.get(f"pk_{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    cache.put("pk_3", SimpleNamespace(id=3))  # put again: nothing else goes
    assert cache.get("pk_2") is not None
