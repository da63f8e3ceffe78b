"""Creating and changing stores and their agents, with every input checked."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.errors import Conflict, Forbidden, InvalidRequest, NotFound
from portside.services.auth import MIN_PASSWORD_CHARS, hash_password
from portside.services.context import Services
from portside.services.geo import valid_timezone
from portside.services.identity import AgentIdentity
from portside.storage import store_store

ROLES = ("admin", "supervisor", "agent")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def check_origin(origin: object) -> str:
    """`scheme://host[:port]`, lower-cased, with no path: the form browsers send."""
    if not isinstance(origin, str):
        raise InvalidRequest("An allowed origin must be text like https://shop.example.com.")
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"{origin!r} is not an origin like https://shop.example.com.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidRequest(f"{origin!r} must have no path, query or user: only scheme://host.")
    try:
        port = parts.port
    except ValueError:
        raise InvalidRequest(f"{origin!r} has an invalid port.") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def check_language(code: object) -> str:
    if not isinstance(code, str) or not code:
        raise InvalidRequest("A language must be a code like en, zh-Hans or pt-BR.")
    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise InvalidRequest(f"{code!r} is not a language Portside knows.") from None
    return code


def check_timezone(name: object) -> str:
    zone = valid_timezone(name)
    if zone is None:
        raise InvalidRequest(f"{name!r} is not a time zone name like Asia/Shanghai.")
    return zone


def check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest(f"The {what} needs a name.")
    if len(name.strip()) > 200:
        raise InvalidRequest(f"The {what}'s name can have at most 200 characters.")
    return name.strip()


async def do_create_store(
    svc: Services,
    *,
    name: object,
    allowed_origins: list[object],
    default_language: object = "en",
    timezone: object = "UTC",
    widget_key: str | None = None,
) -> dict[str, Any]:
    values = {
        "name": check_name(name, "store"),
        "allowed_origins": sorted({check_origin(o) for o in allowed_origins}),
        "default_language": check_language(default_language),
        "timezone": check_timezone(timezone),
        "widget_key": widget_key or "pk_" + secrets.token_urlsafe(18),
        "created_at": svc.clock.now(),
    }
    try:
        store_id = await svc.db.write(lambda conn: store_store.insert_store(conn, **values))
    except IntegrityError:
        raise Conflict("A store with this widget key exists already.") from None
    return {"id": store_id, **{k: v for k, v in values.items() if k != "created_at"}}


async def do_update_store(
    svc: Services, agent: AgentIdentity, changes: dict[str, Any]
) -> dict[str, Any]:
    if agent.role != "admin":
        raise Forbidden("Only a store's admins can change its settings.")
    checks = {
        "name": lambda v: check_name(v, "store"),
        "allowed_origins": lambda v: sorted({check_origin(o) for o in _as_list(v)}),
        "default_language": check_language,
        "timezone": check_timezone,
    }
    unknown = set(changes) - set(checks)
    if unknown:
        raise InvalidRequest(
            f"These settings cannot be changed here: {', '.join(sorted(unknown))}."
        )
    values = {key: checks[key](value) for key, value in changes.items()}

    def update(conn: Connection) -> Any:
        if values:
            store_store.update_store(conn, agent.store_id, **values)
        return store_store.find_store(conn, agent.store_id)

    row = await svc.db.write(update)
    svc.store_keys.forget(agent.store_id)
    if row is None:
        raise NotFound("This store does not exist.")
    return store_to_dict(row)


async def do_create_agent(
    svc: Services,
    *,
    store_id: int,
    email: object,
    name: object,
    password: object,
    role: object = "agent",
) -> dict[str, Any]:
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise InvalidRequest(f"{email!r} is not an email address.")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequest(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    if role not in ROLES:
        raise InvalidRequest(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
    values = {
        "store_id": store_id,
        "email": email.strip().lower(),
        "name": check_name(name, "agent"),
        "password_hash": await hash_password(password),
        "role": role,
        "session_version": 1,
        "created_at": svc.clock.now(),
    }

    def insert(conn: Connection) -> int:
        if store_store.find_store(conn, store_id) is None:
            raise NotFound(f"There is no store {store_id}.")
        return store_store.insert_agent(conn, **values)

    try:
        agent_id = await svc.db.write(insert)
    except IntegrityError:
        raise Conflict(f"An agent with the email {values['email']} exists already.") from None
    return {
        "id": agent_id,
        "store_id": store_id,
        "email": values["email"],
        "name": values["name"],
        "role": role,
    }


def store_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "widget_key": row.widget_key,
        "allowed_origins": list(row.allowed_origins),
        "default_language": row.default_language,
        "timezone": row.timezone,
    }


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise InvalidRequest("allowed_origins must be a list of origins.")
    return value
