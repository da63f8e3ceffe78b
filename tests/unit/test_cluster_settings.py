"""Settings for running several nodes: the drain on SIGTERM, the trusted proxies, and how
a database's schema revision is judged against the code's."""

from __future__ import annotations

import pytest

from portside.config import Settings, SettingsError
from portside.storage.migrate import SchemaRevisions, head_revision


def test_a_node_drains_five_seconds_unless_told_otherwise() -> None:
    assert Settings.from_env({}).drain_s == 5.0
    assert Settings.from_env({"PORTSIDE_DRAIN_S": "0"}).drain_s == 0.0
    assert Settings.from_env({"PORTSIDE_DRAIN_S": "12.5"}).drain_s == 12.5


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
def test_a_drain_that_is_not_a_duration_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="PORTSIDE_DRAIN_S") as error:
        Settings.from_env({"PORTSIDE_DRAIN_S": raw})
    assert repr(raw) in str(error.value)


def test_trusted_proxies_are_addresses_and_networks() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    settings = Settings.from_env({"PORTSIDE_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8,::1 ,"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")


@pytest.mark.parametrize("item", ["proxy.internal", "*", "10.0.0.0/33", "300.1.1.1"])
def test_a_trusted_proxy_that_is_not_an_address_is_named(item: str) -> None:
    with pytest.raises(SettingsError, match="PORTSIDE_TRUSTED_PROXIES") as error:
        Settings.from_env({"PORTSIDE_TRUSTED_PROXIES": f"127.0.0.1,{item}"})
    assert repr(item) in str(error.value)


def test_schema_revisions_are_judged_against_the_code() -> None:
    revisions = SchemaRevisions.of_code()
    assert revisions.head == head_revision()
    assert revisions.state(head_revision()) == "current"
    assert revisions.state(None) == "missing"
    assert revisions.state("0001") == "behind"
    # Unknown to this code: a newer release migrated it (before its rolling restart).
    assert revisions.state("9999") == "ahead"
