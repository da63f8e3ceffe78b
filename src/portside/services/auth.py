"""Logging agents in and out, and checking their sessions."""

from __future__ import annotations

import asyncio
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from portside.errors import CsrfFailed, InvalidCredentials, NotAuthenticated, RateLimited
from portside.services.context import Services
from portside.services.identity import AgentIdentity, issue_session, read_session
from portside.storage import store_store

_hasher = PasswordHasher()
# Checked when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("portside-no-such-agent")

MIN_PASSWORD_CHARS = 10


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


async def do_login(
    svc: Services, *, email: object, password: object, address: str
) -> tuple[AgentIdentity, str]:
    """Check credentials; return the agent and a session cookie value."""
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise InvalidCredentials("Enter your email and password.")
    email = email.strip().lower()
    limits = ((svc.limiters.logins_by_address, address), (svc.limiters.logins, email))
    for limiter, key in limits:
        retry = await limiter.hit(key)
        if retry:
            raise RateLimited(
                f"Too many login attempts; try again in {retry:.0f} s.", retry_after=retry
            )
    agent = await svc.db.read(lambda conn: store_store.find_agent_by_email(conn, email))
    ok = await _verify(agent.password_hash if agent else _DUMMY_HASH, password)
    if agent is None or not ok:
        raise InvalidCredentials("The email or password is not right.")
    cookie, csrf = issue_session(svc.settings, agent.id, agent.session_version)
    return AgentIdentity.from_row(agent, csrf), cookie


async def check_session(svc: Services, cookie: str | None) -> AgentIdentity:
    """The agent a session cookie belongs to; raises NotAuthenticated."""
    if not cookie:
        raise NotAuthenticated("Log in to continue.")
    claims = read_session(svc.settings, cookie)
    agent = await svc.db.read(lambda conn: store_store.find_agent(conn, claims.agent_id))
    if agent is None or agent.session_version != claims.session_version:
        raise NotAuthenticated("Your session has ended; log in again.")
    return AgentIdentity.from_row(agent, claims.csrf_token)


def check_csrf(agent: AgentIdentity, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, agent.csrf_token):
        raise CsrfFailed("This request is missing its X-CSRF-Token header; reload the page.")


async def do_logout_everywhere(svc: Services, agent: AgentIdentity) -> None:
    """End every session of the agent (their cookies stop working at once)."""

    def bump(conn: Connection) -> None:
        row = store_store.find_agent(conn, agent.id)
        if row is not None:
            store_store.update_agent(conn, agent.id, session_version=row.session_version + 1)

    await svc.db.write(bump)
