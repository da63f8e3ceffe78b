"""Signed visitor tokens and console sessions."""

from __future__ import annotations

import time
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from portside.config import Settings
from portside.domain.conversations import ActorType
from portside.errors import NotAuthenticated, TokenExpired, TokenInvalid
from portside.services.identity import (
    SESSION_SALT,
    VISITOR_SALT,
    AgentIdentity,
    issue_session,
    issue_visitor_token,
    read_session,
    read_visitor_token,
)

SETTINGS = Settings(secret_key="unit-test-secret-" + "k" * 32)
DAY = 86400


def _signed_long_ago(settings: Settings, salt: str, payload: Any, age_s: int) -> str:
    """What Portside would have issued `age_s` seconds ago: a signer whose clock is behind."""

    class SignerInThePast(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_s

    serializer = URLSafeTimedSerializer(settings.secret_key, salt=salt, signer=SignerInThePast)
    return str(serializer.dumps(payload))


def _tampered(token: str) -> str:
    """The token with the first character of its signature changed.

    Not the last one: its low bits are base64 padding, which decoding may ignore.
    """
    head, signature = token.rsplit(".", 1)
    flipped = "A" if signature[0] != "A" else "B"
    return f"{head}.{flipped}{signature[1:]}"


def test_visitor_token_names_its_visitor() -> None:
    token = issue_visitor_token(SETTINGS, store_id=3, visitor_id=41)
    assert read_visitor_token(SETTINGS, token, store_id=3) == 41


def test_visitor_tokens_of_different_visitors_differ() -> None:
    assert issue_visitor_token(SETTINGS, 3, 41) != issue_visitor_token(SETTINGS, 3, 42)


def test_visitor_token_for_another_store_is_invalid() -> None:
    token = issue_visitor_token(SETTINGS, store_id=3, visitor_id=41)
    with pytest.raises(TokenInvalid, match="another store") as caught:
        read_visitor_token(SETTINGS, token, store_id=4)
    assert caught.value.code == "token_invalid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "eyJzIjozLCJ2Ijo0MX0.AAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB",
        issue_visitor_token(SETTINGS, 3, 41) + "x",
        _tampered(issue_visitor_token(SETTINGS, 3, 41)),
    ],
)
def test_forged_or_tampered_visitor_token_is_invalid(token: str) -> None:
    with pytest.raises(TokenInvalid):
        read_visitor_token(SETTINGS, token, store_id=3)


def test_visitor_token_with_a_changed_payload_is_invalid() -> None:
    token = issue_visitor_token(SETTINGS, store_id=3, visitor_id=41)
    other = issue_visitor_token(SETTINGS, store_id=3, visitor_id=42)
    # Someone else's payload with this token's timestamp and signature.
    spliced = other.split(".", 1)[0] + "." + token.split(".", 1)[1]
    with pytest.raises(TokenInvalid):
        read_visitor_token(SETTINGS, spliced, store_id=3)


def test_session_cookie_cannot_be_used_as_a_visitor_token() -> None:
    cookie, _csrf = issue_session(SETTINGS, agent_id=41, session_version=1)
    with pytest.raises(TokenInvalid):
        read_visitor_token(SETTINGS, cookie, store_id=3)


def test_visitor_token_past_its_lifetime_has_expired() -> None:
    age = SETTINGS.visitor_token_days * DAY + 60
    token = _signed_long_ago(SETTINGS, VISITOR_SALT, {"s": 3, "v": 41}, age)
    with pytest.raises(TokenExpired) as caught:
        read_visitor_token(SETTINGS, token, store_id=3)
    assert caught.value.code == "token_expired"


def test_visitor_token_within_its_lifetime_is_accepted() -> None:
    age = SETTINGS.visitor_token_days * DAY - 3600
    token = _signed_long_ago(SETTINGS, VISITOR_SALT, {"s": 3, "v": 41}, age)
    assert read_visitor_token(SETTINGS, token, store_id=3) == 41


def test_signed_token_without_a_visitor_id_is_invalid() -> None:
    token = _signed_long_ago(SETTINGS, VISITOR_SALT, {"s": 3, "v": "41"}, 0)
    with pytest.raises(TokenInvalid):
        read_visitor_token(SETTINGS, token, store_id=3)


def test_a_new_secret_key_invalidates_visitor_tokens() -> None:
    token = issue_visitor_token(SETTINGS, store_id=3, visitor_id=41)
    rotated = Settings(secret_key="another-secret-" + "z" * 32)
    with pytest.raises(TokenInvalid):
        read_visitor_token(rotated, token, store_id=3)


def test_tokens_need_a_secret_key() -> None:
    with pytest.raises(RuntimeError, match="with_secret"):
        issue_visitor_token(Settings(), store_id=3, visitor_id=41)


def test_session_round_trips_with_its_csrf_token() -> None:
    cookie, csrf = issue_session(SETTINGS, agent_id=7, session_version=3)
    claims = read_session(SETTINGS, cookie)
    assert (claims.agent_id, claims.session_version, claims.csrf_token) == (7, 3, csrf)


def test_each_session_gets_its_own_csrf_token() -> None:
    _, first = issue_session(SETTINGS, agent_id=7, session_version=3)
    _, second = issue_session(SETTINGS, agent_id=7, session_version=3)
    assert first != second
    assert len(first) >= 24


def test_session_past_its_lifetime_has_expired() -> None:
    age = SETTINGS.session_hours * 3600 + 60
    cookie = _signed_long_ago(SETTINGS, SESSION_SALT, {"a": 7, "n": 3, "c": "csrf"}, age)
    with pytest.raises(NotAuthenticated, match="expired"):
        read_session(SETTINGS, cookie)


def test_session_within_its_lifetime_is_accepted() -> None:
    age = SETTINGS.session_hours * 3600 - 60
    cookie = _signed_long_ago(SETTINGS, SESSION_SALT, {"a": 7, "n": 3, "c": "csrf"}, age)
    assert read_session(SETTINGS, cookie).agent_id == 7


@pytest.mark.parametrize("cookie", ["", "garbage", "a.b.c"])
def test_forged_session_is_not_authenticated(cookie: str) -> None:
    with pytest.raises(NotAuthenticated, match="Log in"):
        read_session(SETTINGS, cookie)


def test_tampered_session_is_not_authenticated() -> None:
    cookie, _ = issue_session(SETTINGS, agent_id=7, session_version=3)
    with pytest.raises(NotAuthenticated):
        read_session(SETTINGS, _tampered(cookie))


def test_visitor_token_cannot_be_used_as_a_session() -> None:
    token = issue_visitor_token(SETTINGS, store_id=3, visitor_id=7)
    with pytest.raises(NotAuthenticated):
        read_session(SETTINGS, token)


def test_signed_session_missing_its_claims_is_not_authenticated() -> None:
    cookie = _signed_long_ago(SETTINGS, SESSION_SALT, {"a": 7}, 0)
    with pytest.raises(NotAuthenticated):
        read_session(SETTINGS, cookie)


def test_a_new_secret_key_ends_sessions() -> None:
    cookie, _ = issue_session(SETTINGS, agent_id=7, session_version=3)
    with pytest.raises(NotAuthenticated):
        read_session(Settings(secret_key="another-secret-" + "z" * 32), cookie)


def test_agent_identity_acts_as_an_agent_and_hides_its_csrf_token() -> None:
    agent = AgentIdentity(
        id=7, store_id=3, name="Mei", email="mei@shop.example", role="agent", csrf_token="t"
    )
    assert agent.actor.type is ActorType.AGENT
    assert (agent.actor.id, agent.actor.name) == (7, "Mei")
    assert agent.to_dict() == {
        "id": 7,
        "store_id": 3,
        "name": "Mei",
        "email": "mei@shop.example",
        "role": "agent",
    }
