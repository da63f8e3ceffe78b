"""A store's `email` settings: the SMTP server agents' replies go out through, and the
addresses and secret the shoppers' answers come back with (docs/api.md#settings).

Checked whole like every section (services/settings.py), each error naming its field.
The SMTP password and the inbound secret are write-only: never returned, only whether
there is one; a PUT without them keeps the stored ones, `""` or null removes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from portside.domain.mail import SmtpServer
from portside.errors import field_error
from portside.services._sections import check_known, read_section

SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
FIELDS = (
    "enabled",
    "host",
    "port",
    "security",
    "username",
    "password",
    "from_address",
    "from_name",
    "reply_domain",
    "inbound_secret",
)
MAX_NAME = 200
MAX_PASSWORD = 500
MIN_SECRET = 16
MAX_SECRET = 128

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\]")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@" + _DOMAIN.pattern)
_SECRET = re.compile(rf"[A-Za-z0-9_-]{{{MIN_SECRET},{MAX_SECRET}}}")


@dataclass(frozen=True)
class EmailSettings:
    """Off unless enabled with a server, a from address and a reply domain."""

    enabled: bool = False
    host: str = ""
    port: int = DEFAULT_PORTS["starttls"]
    security: str = "starttls"
    username: str = ""
    password: str | None = None
    from_address: str = ""
    from_name: str = ""
    reply_domain: str = ""
    inbound_secret: str | None = None

    @property
    def server(self) -> SmtpServer:
        return SmtpServer(self.host, self.port, self.security, self.username, self.password)


def read_email(settings: Mapping[str, Any] | None) -> EmailSettings:
    """The `email` section of a store's stored settings (checked when written); anything
    unreadable counts as email off."""
    return read_section(settings, "email", check_email, EmailSettings)


def check_email(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    check_known(body, FIELDS)
    enabled = body.get("enabled", False)
    if not isinstance(enabled, bool):
        raise field_error("enabled", f"enabled is true or false, not {enabled!r}.")
    security = body.get("security", "starttls")
    if security not in SECURITY:
        raise field_error(
            "security", f"security is one of {', '.join(SECURITY)}, not {security!r}."
        )
    port = body.get("port")
    if port is None:
        port = DEFAULT_PORTS[security]
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise field_error("port", f"port is a whole number from 1 to 65535, not {port!r}.")
    host = _matching(body, "host", _HOST, "a host name or address, like smtp.example.com")
    username = _line(body, "username")
    from_address = _matching(body, "from_address", _ADDRESS, "an email address")
    from_name = _line(body, "from_name")
    reply_domain = _matching(
        body, "reply_domain", _DOMAIN, "the domain shoppers reply to, like reply.example.com"
    ).lower()
    password = _secret(body, old, "password", _password)
    inbound_secret = _secret(body, old, "inbound_secret", _inbound_secret)
    if enabled:
        for field, value in (
            ("host", host),
            ("from_address", from_address),
            ("reply_domain", reply_domain),
        ):
            if not value:
                raise field_error(field, f"Email that is enabled needs its {field}.")
    return {
        "enabled": enabled,
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "password": password,
        "from_address": from_address,
        "from_name": from_name,
        "reply_domain": reply_domain,
        "inbound_secret": inbound_secret,
    }


def public_email(value: Mapping[str, Any]) -> dict[str, Any]:
    """The section as agents read it: without the password and the inbound secret."""
    settings = read_email({"email": value})
    return {
        "enabled": settings.enabled,
        "host": settings.host,
        "port": settings.port,
        "security": settings.security,
        "username": settings.username,
        "has_password": settings.password is not None,
        "from_address": settings.from_address,
        "from_name": settings.from_name,
        "reply_domain": settings.reply_domain,
        "has_inbound_secret": settings.inbound_secret is not None,
    }


def _secret(
    body: Mapping[str, Any], old: Mapping[str, Any], field: str, check: Callable[[object], str]
) -> str | None:
    if field in body:
        value = body[field]
        return None if value is None or value == "" else check(value)
    kept = old.get(field)
    return kept if isinstance(kept, str) and kept else None


def _password(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_PASSWORD or not value.isprintable():
        raise field_error("password", f"password is text of at most {MAX_PASSWORD} characters.")
    return value


def _inbound_secret(value: object) -> str:
    if not isinstance(value, str) or not _SECRET.fullmatch(value):
        raise field_error(
            "inbound_secret",
            f"inbound_secret is {MIN_SECRET} to {MAX_SECRET} letters, digits, _ and -: it is "
            "part of the inbound address, so make it long and random.",
        )
    return value


def _line(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > MAX_NAME or not value.isprintable():
        raise field_error(field, f"{field} is text of at most {MAX_NAME} characters on one line.")
    return value.strip()


def _matching(body: Mapping[str, Any], field: str, pattern: re.Pattern[str], what: str) -> str:
    value = body.get(field, "")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        raise field_error(field, f"{field} is {what}, not {value!r}.")
    return value.strip()


def valid_address(value: str) -> bool:
    """Whether `value` is an address we can send to (and put in a header safely)."""
    return bool(_ADDRESS.fullmatch(value))
