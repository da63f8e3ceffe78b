"""Webhook signatures: Shopify's base64 HMAC of the raw body, and Portside's own signed,
timed header. Each refusal is a SignatureInvalid (SignatureExpired for a stale one)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from portside.domain.webhooks import (
    TOLERANCE_S,
    check_portside_signature,
    check_shopify_signature,
    portside_signature,
    shopify_signature,
)
from portside.errors import SignatureExpired, SignatureInvalid
from tests.support.webhooks import DATA

SECRET = "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"
BODY = (DATA / "orders_create.json").read_bytes()
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_shopify_signature_is_the_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest())
    assert shopify_signature(BODY, SECRET) == expected.decode()
    check_shopify_signature(BODY, SECRET, expected.decode())


@pytest.mark.parametrize(
    ("body", "secret", "header"),
    [
        (BODY.replace(b'"199.00"', b'"1.00"', 1), SECRET, shopify_signature(BODY, SECRET)),
        (BODY, SECRET, shopify_signature(BODY, "another store's secret")),
        (BODY, SECRET, None),
        (BODY, SECRET, ""),
        (BODY, SECRET, "not base64 at all!"),
        (BODY, SECRET, shopify_signature(BODY, SECRET)[:-4]),
        (BODY, None, shopify_signature(BODY, SECRET)),
    ],
    ids=["body changed", "other secret", "missing", "empty", "garbage", "cut", "no secret"],
)
def test_a_wrong_shopify_signature_is_refused(
    body: bytes, secret: str | None, header: str | None
) -> None:
    with pytest.raises(SignatureInvalid) as refused:
        check_shopify_signature(body, secret, header)
    assert refused.value.code == "signature_invalid"
    assert SECRET not in refused.value.message


def test_the_json_is_not_reencoded_before_checking() -> None:
    # Same JSON, other bytes: Shopify signs the bytes it sent.
    spaced = BODY.replace(b": ", b":  ", 1)
    with pytest.raises(SignatureInvalid):
        check_shopify_signature(spaced, SECRET, shopify_signature(BODY, SECRET))


def test_portside_signature_signs_time_dot_body() -> None:
    at = int(NOW.timestamp())
    header = portside_signature(b'{"a":1}', "whsec-0123456789abcdef", at)
    digest = hmac.new(
        b"whsec-0123456789abcdef", f"{at}.".encode() + b'{"a":1}', hashlib.sha256
    ).hexdigest()
    assert header == f"t={at},v1={digest}"
    check_portside_signature(b'{"a":1}', "whsec-0123456789abcdef", header, NOW)


def test_a_portside_signature_within_five_minutes_either_way_passes() -> None:
    for offset in (-TOLERANCE_S, TOLERANCE_S):
        at = int(NOW.timestamp()) + offset
        check_portside_signature(BODY, SECRET, portside_signature(BODY, SECRET, at), NOW)


@pytest.mark.parametrize("offset", [-TOLERANCE_S - 1, -86_400, TOLERANCE_S + 1])
def test_a_stale_portside_signature_is_refused_as_expired(offset: int) -> None:
    at = int(NOW.timestamp()) + offset
    with pytest.raises(SignatureExpired) as refused:
        check_portside_signature(BODY, SECRET, portside_signature(BODY, SECRET, at), NOW)
    assert refused.value.code == "signature_expired"


def test_changing_the_time_of_a_stale_signature_breaks_it() -> None:
    stale = int(NOW.timestamp()) - 3600
    digest = portside_signature(BODY, SECRET, stale).split("v1=")[1]
    with pytest.raises(SignatureInvalid) as refused:
        check_portside_signature(BODY, SECRET, f"t={int(NOW.timestamp())},v1={digest}", NOW)
    assert not isinstance(refused.value, SignatureExpired)


def test_one_matching_v1_of_several_is_enough() -> None:
    at = int(NOW.timestamp())
    old = portside_signature(BODY, "the-old-secret-0000", at).split("v1=")[1]
    new = portside_signature(BODY, SECRET, at).split("v1=")[1]
    check_portside_signature(BODY, SECRET, f"t={at},v1={old},v1={new}", NOW)
    with pytest.raises(SignatureInvalid):
        check_portside_signature(BODY, SECRET, f"t={at},v1={old}", NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=" + "a" * 64,
        "t=1796464800",
        "t=abc,v1=" + "a" * 64,
        "t=1,v1=short",
        "x" * 3000,
    ],
)
def test_a_malformed_portside_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureInvalid):
        check_portside_signature(BODY, SECRET, header, NOW)


def test_no_webhook_secret_refuses_everything() -> None:
    header = portside_signature(BODY, SECRET, int(NOW.timestamp()))
    with pytest.raises(SignatureInvalid, match="webhook_secret"):
        check_portside_signature(BODY, None, header, NOW)
