"""Who is on the other end: signed visitor tokens and agents' console sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portside.config import Settings
from portside.domain.conversations import Actor, ActorType
from portside.errors import NotAuthenticated, TokenExpired, TokenInvalid
from portside.services.context import Services
from portside.storage import store_store

VISITOR_SALT = "portside.visitor.v1"
SESSION_SALT = "portside.session.v1"
MAIL_SALT = "portside.mail.v1"


@dataclass(frozen=True)
class AgentIdentity:
    """An authenticated agent, as known for the life of one request or connection."""

    id: int
    store_id: int
    name: str
    email: str
    role: str
    csrf_token: str

    @classmethod
    def from_row(cls, row: Any, csrf_token: str = "") -> AgentIdentity:
        """The agent of an `agents` row (no CSRF token outside a session)."""
        return cls(
            id=int(row.id),
            store_id=int(row.store_id),
            name=row.name,
            email=row.email,
            role=row.role,
            csrf_token=csrf_token,
        )

    @property
    def actor(self) -> Actor:
        return Actor(ActorType.AGENT, self.id, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "store_id": self.store_id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
        }


def issue_visitor_token(settings: Settings, store_id: int, visitor_id: int) -> str:
    return _serializer(settings, VISITOR_SALT).dumps({"s": store_id, "v": visitor_id})


def read_visitor_token(settings: Settings, token: str, store_id: int) -> int:
    """The visitor id a token names, for this store; raises TokenInvalid or TokenExpired."""
    return read_visitor_claims(settings, token, store_id)[0]


def read_visitor_claims(settings: Settings, token: str, store_id: int) -> tuple[int, datetime]:
    """The visitor id a token names, for this store, and when it was issued (to the
    second); raises TokenInvalid or TokenExpired."""
    max_age = settings.visitor_token_days * 86400
    try:
        payload, issued = _serializer(settings, VISITOR_SALT).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise TokenExpired("This visitor token has expired; a new one was issued.") from None
    except BadSignature:
        raise TokenInvalid("This visitor token is not valid; a new one was issued.") from None
    if not isinstance(payload, dict) or payload.get("s") != store_id:
        raise TokenInvalid("This visitor token belongs to another store; a new one was issued.")
    visitor_id = payload.get("v")
    if not isinstance(visitor_id, int):
        raise TokenInvalid("This visitor token is not valid; a new one was issued.")
    return visitor_id, issued


def token_predates(issued: datetime, visitor: Any) -> bool:
    """Whether a token was issued before its visitor existed: it names a row that is not
    the one it was issued for (ids are never given twice, v0010, so this is defence in
    depth: a database restored from a backup, say). A visitor's own tokens are all
    issued from their creation on (renewed at every hello)."""
    created: datetime = visitor.created_at
    return issued < created.replace(microsecond=0)


async def get_token_visitor(svc: Services, token: str, store_id: int) -> int:
    """The visitor an HTTP request's token names, who must still exist (a widget's
    upload, link or beacon); raises TokenInvalid or TokenExpired."""
    visitor_id, issued = read_visitor_claims(svc.settings, token, store_id)
    row = await svc.db.read(lambda conn: store_store.find_visitor(conn, store_id, visitor_id))
    if row is None or token_predates(issued, row):
        raise TokenInvalid("This visitor no longer exists; reload the page to chat again.")
    return visitor_id


@dataclass(frozen=True)
class SessionClaims:
    agent_id: int
    session_version: int
    csrf_token: str


def issue_session(settings: Settings, agent_id: int, session_version: int) -> tuple[str, str]:
    """A signed session cookie value and the CSRF token bound to it."""
    csrf = secrets.token_urlsafe(24)
    value = _serializer(settings, SESSION_SALT).dumps(
        {"a": agent_id, "n": session_version, "c": csrf}
    )
    return value, csrf


def read_session(settings: Settings, value: str) -> SessionClaims:
    try:
        payload = _serializer(settings, SESSION_SALT).loads(
            value, max_age=settings.session_hours * 3600
        )
    except SignatureExpired:
        raise NotAuthenticated("Your session has expired; log in again.") from None
    except BadSignature:
        raise NotAuthenticated("Log in to continue.") from None
    try:
        return SessionClaims(int(payload["a"]), int(payload["n"]), str(payload["c"]))
    except (KeyError, TypeError, ValueError):
        raise NotAuthenticated("Log in to continue.") from None


def mail_key(settings: Settings) -> bytes:
    """The key that signs reply addresses and Message-IDs of emails (domain/mail.py)."""
    if not settings.secret_key:
        raise RuntimeError("Settings.secret_key is empty; call Settings.with_secret() first")
    return hmac.new(settings.secret_key.encode(), MAIL_SALT.encode(), hashlib.sha256).digest()


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    if not settings.secret_key:
        raise RuntimeError("Settings.secret_key is empty; call Settings.with_secret() first")
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)
