"""A store's `csat` settings: on by default, off when it says so, never broken."""

from __future__ import annotations

import pytest

from portside.errors import InvalidRequest
from portside.services.csat import CsatSettings, check_csat, read_csat


def test_csat_is_on_unless_a_store_turns_it_off() -> None:
    assert read_csat({}) == CsatSettings(enabled=True)
    assert read_csat(None).enabled
    assert not read_csat({"csat": {"enabled": False}}).enabled
    # What cannot be read counts as the default: shoppers are still asked.
    assert read_csat({"csat": {"enabled": "no"}}).enabled
    assert read_csat({"csat": ["enabled"]}).enabled


def test_the_section_is_checked_whole() -> None:
    assert check_csat({}, {}) == {"enabled": True}
    assert check_csat({"enabled": False}, {}) == {"enabled": False}
    with pytest.raises(InvalidRequest) as caught:
        check_csat({"enabled": "off"}, {})
    assert caught.value.details == [{"field": "enabled", "problem": caught.value.message}]
    with pytest.raises(InvalidRequest, match="Unknown settings: delay"):
        check_csat({"enabled": True, "delay": 5}, {})
