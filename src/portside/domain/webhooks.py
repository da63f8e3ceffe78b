"""Signatures of the order webhooks a store's shop sends (docs/orders.md).

- Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body, keyed
  with the store's Shopify secret.
- Portside's own, for any other platform: `X-Portside-Signature: t=<unix>,v1=<hex>`,
  the hex HMAC-SHA256 of `"<t>.<raw body>"` keyed with the store's webhook secret. The
  time inside the signature makes a captured delivery useless after five minutes;
  several `v1=` may be given (while a secret is being changed), one must match.

Every comparison is constant-time. Errors never repeat a secret or an expected value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

from portside.errors import SignatureExpired, SignatureInvalid

# How far the time in a Portside signature may be from ours, either way.
TOLERANCE_S = 300
MAX_HEADER = 2000


def shopify_signature(body: bytes, secret: str) -> str:
    """The `X-Shopify-Hmac-Sha256` Shopify sends for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_shopify_signature(body: bytes, secret: str | None, header: str | None) -> None:
    """Raise SignatureInvalid unless `header` is Shopify's signature of `body`."""
    if not secret:
        raise SignatureInvalid(
            "This store has no Shopify secret: set shopify_secret in its orders settings "
            "(the key Shopify signs its webhooks with); nothing was stored."
        )
    if not header:
        raise SignatureInvalid(
            "X-Shopify-Hmac-Sha256 is missing: Shopify signs every webhook; nothing was stored."
        )
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise SignatureInvalid(
            "X-Shopify-Hmac-Sha256 does not match this body and the store's Shopify secret; "
            "nothing was stored."
        )


def portside_signature(body: bytes, secret: str, at: int) -> str:
    """The `X-Portside-Signature` header for `body` sent at unix time `at`."""
    return f"t={at},v1={_portside_digest(body, secret, at)}"


def check_portside_signature(
    body: bytes, secret: str | None, header: str | None, now: datetime
) -> None:
    """Raise SignatureInvalid unless `header` signs `body` with `secret`, or
    SignatureExpired when it was made more than TOLERANCE_S from `now`."""
    if not secret:
        raise SignatureInvalid(
            "This store has no webhook secret: set webhook_secret in its orders settings; "
            "nothing was stored."
        )
    if not header:
        raise SignatureInvalid(
            "X-Portside-Signature is missing: sign the body as docs/orders.md shows; "
            "nothing was stored."
        )
    at, digests = _parse_portside_header(header)
    expected = _portside_digest(body, secret, at)
    if not any(hmac.compare_digest(d.encode(), expected.encode()) for d in digests):
        raise SignatureInvalid(
            "X-Portside-Signature does not match this body and the store's webhook secret "
            '(v1 is the hex HMAC-SHA256 of "<t>.<body>"); nothing was stored.'
        )
    # Checked after the digest, so that the time cannot be changed to pass.
    if abs(now.timestamp() - at) > TOLERANCE_S:
        raise SignatureExpired(
            f"X-Portside-Signature was made at {at}, more than {TOLERANCE_S} seconds from "
            "this server's time: sign each delivery when it is sent; nothing was stored."
        )


def _portside_digest(body: bytes, secret: str, at: int) -> str:
    return hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def _parse_portside_header(header: str) -> tuple[int, list[str]]:
    malformed = SignatureInvalid(
        "X-Portside-Signature is t=<unix time>,v1=<hex HMAC-SHA256>; nothing was stored."
    )
    if len(header) > MAX_HEADER:
        raise malformed
    at: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            at = int(value)
        elif key == "v1" and len(value) == 64:
            digests.append(value.lower())
    if at is None or not digests:
        raise malformed
    return at, digests
