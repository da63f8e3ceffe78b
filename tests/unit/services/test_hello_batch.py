"""Batched hello reads come in few statement shapes: a key list is padded to a power of
two with its last key, which changes nothing an `IN (…)` finds."""

from __future__ import annotations

from portside.services.hello_batch import padded


def test_a_key_list_is_padded_to_the_next_power_of_two_with_its_last_key() -> None:
    assert padded([]) == []
    assert padded([7]) == [7]
    assert padded([7, 8]) == [7, 8]
    assert padded([7, 8, 9]) == [7, 8, 9, 9]
    assert padded(list(range(5))) == [0, 1, 2, 3, 4, 4, 4, 4]
    assert {len(padded(list(range(n)))) for n in range(1, 513)} == {2**k for k in range(10)}
