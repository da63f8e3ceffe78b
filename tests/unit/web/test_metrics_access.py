"""Who may read /metrics: the token's bearer when one is set, else this machine only."""

from __future__ import annotations

import pytest

from portside.config import Settings
from portside.errors import Forbidden, NotAuthenticated
from portside.web.metrics_routes import check_metrics_access, is_loopback

TOKEN = "s3cret-metrics-token"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_this_machine_may_read(host: str) -> None:
    check_metrics_access("", None, host)


@pytest.mark.parametrize(
    "host",
    ["10.0.0.5", "192.168.1.20", "203.0.113.7", "2001:db8::1", "::ffff:10.0.0.5", "0.0.0.0"],
)
def test_without_a_token_other_addresses_are_refused(host: str) -> None:
    with pytest.raises(Forbidden) as refused:
        check_metrics_access("", None, host)
    assert refused.value.code == "metrics_loopback_only"
    assert "PORTSIDE_METRICS_TOKEN" in refused.value.message


@pytest.mark.parametrize("host", [None, "", "unknown", "localhost", "testclient"])
def test_an_address_that_is_not_an_ip_is_not_trusted(host: str | None) -> None:
    assert not is_loopback(host)
    with pytest.raises(Forbidden):
        check_metrics_access("", None, host)


@pytest.mark.parametrize("host", ["127.0.0.1", "203.0.113.7"])
def test_with_a_token_the_bearer_may_read_from_anywhere(host: str) -> None:
    check_metrics_access(TOKEN, f"Bearer {TOKEN}", host)
    check_metrics_access(TOKEN, f"bearer {TOKEN}", host)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer wrong"],
)
def test_with_a_token_set_even_this_machine_must_bring_it(authorization: str | None) -> None:
    with pytest.raises(NotAuthenticated) as refused:
        check_metrics_access(TOKEN, authorization, "127.0.0.1")
    assert refused.value.code == "metrics_token_required"
    assert refused.value.status == 401


def test_the_token_comes_from_its_variable() -> None:
    assert Settings.from_env({}).metrics_token == ""
    assert Settings.from_env({"PORTSIDE_METRICS_TOKEN": f" {TOKEN}\n"}).metrics_token == TOKEN
