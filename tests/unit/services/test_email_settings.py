"""A store's `email` settings: checked whole, secrets write-only, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from portside.errors import InvalidRequest
from portside.services.email_settings import check_email, public_email, read_email

GOOD: dict[str, Any] = {
    "enabled": True,
    "host": "smtp.lotus.example",
    "security": "tls",
    "username": "lotus",
    "password": "app-password",
    "from_address": "help@lotus.example",
    "reply_domain": "Reply.Lotus.example",
    "inbound_secret": "s3cret-s3cret-s3cret",
}


def test_a_good_section_is_kept_with_the_port_its_security_implies() -> None:
    checked = check_email(GOOD, {})
    assert checked["port"] == 465
    assert checked["reply_domain"] == "reply.lotus.example"
    assert check_email({**GOOD, "security": "starttls"}, {})["port"] == 587
    assert check_email({**GOOD, "security": "none", "port": 2525}, {})["port"] == 2525
    settings = read_email({"email": checked})
    assert settings.enabled
    assert settings.server.port == 465


def test_secrets_are_never_shown_and_kept_when_left_out() -> None:
    stored = check_email(GOOD, {})
    shown = public_email(stored)
    assert shown["has_password"] is True
    assert shown["has_inbound_secret"] is True
    assert "password" not in shown
    assert "inbound_secret" not in shown
    without = {k: v for k, v in GOOD.items() if k not in ("password", "inbound_secret")}
    assert check_email(without, stored)["password"] == "app-password"
    assert check_email({**without, "password": ""}, stored)["password"] is None
    assert check_email({**without, "inbound_secret": None}, stored)["inbound_secret"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("enabled", "yes"),
        ("host", "smtp://lotus.example"),
        ("port", 0),
        ("port", True),
        ("security", "ssl"),
        ("from_address", "help at lotus"),
        ("reply_domain", "localhost"),
        ("inbound_secret", "too-short"),
        ("inbound_secret", "has spaces in it, quite long"),
        ("from_name", "two\nlines"),
        ("colour", "blue"),
    ],
)
def test_a_wrong_field_is_named(field: str, value: object) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_email({**GOOD, field: value}, {})
    details: Any = raised.value.details
    assert [detail["field"] for detail in details] == [field]
    assert details[0]["problem"]


@pytest.mark.parametrize("field", ["host", "from_address", "reply_domain"])
def test_enabled_email_needs_a_server_a_sender_and_a_reply_domain(field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_email({**GOOD, field: ""}, {})
    details: Any = raised.value.details
    assert details[0]["field"] == field
    assert check_email({**GOOD, "enabled": False, field: ""}, {})["enabled"] is False


def test_unreadable_stored_settings_mean_email_is_off() -> None:
    assert not read_email({"email": {"enabled": "maybe"}}).enabled
    assert not read_email({}).enabled
    assert not read_email(None).enabled
