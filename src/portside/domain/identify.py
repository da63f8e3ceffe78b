"""A logged-in customer as a store names them with `Portside.identify`, and the HMAC
that proves the store's own server said so.

The widget runs in the shopper's browser, so anything it says about who the shopper is
could be typed by anyone. The store's server therefore signs the customer id with the
store's identify secret (HMAC-SHA256, lower-case hex); only a customer whose hash
matches is taken. The email, name and tags ride along unsigned: they describe the
customer the signed id names, and a shopper can only ever change them on themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from portside.errors import PortsideError

MAX_CUSTOMER_ID = 200
MAX_EMAIL = 320
MAX_NAME = 200
MAX_TAGS = 20
TAG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_HEX = re.compile(r"[0-9a-f]{64}")


class InvalidCustomer(PortsideError):
    code = "invalid_request"


class IdentifyRefused(PortsideError):
    """The hash does not match the customer id, or the store has no identify secret."""

    code = "identify_refused"
    status = 403


@dataclass(frozen=True)
class Customer:
    id: str
    email: str | None
    name: str | None
    # None: not given, the visitor keeps the tags it has.
    tags: tuple[str, ...] | None


def identify_hash(secret: str, customer_id: str) -> str:
    """What the store's server computes: HMAC-SHA256(secret, customer id), hex."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def check_hash(secret: str | None, customer_id: str, given: object) -> None:
    """Raise IdentifyRefused unless `given` is the customer id's hash under `secret`."""
    if not secret:
        raise IdentifyRefused(
            "This store does not verify customers: set its identify_secret "
            "(settings section tracking) first."
        )
    text = given.lower() if isinstance(given, str) else ""
    # Compared in constant time, even when the shape is wrong, so the answer's timing
    # says nothing about how close a guess was.
    expected = identify_hash(secret, customer_id)
    ok = hmac.compare_digest(expected, text if _HEX.fullmatch(text) else "0" * 64)
    if not ok:
        raise IdentifyRefused(
            "The hash does not match this customer id: compute it on the store's server, "
            "HMAC-SHA256 of the id with the store's identify secret, in hex."
        )


def check_customer(raw: object) -> Customer:
    if not isinstance(raw, dict):
        raise _invalid("customer", "customer is a JSON object with at least an id.")
    customer_id = raw.get("id")
    if isinstance(customer_id, int) and not isinstance(customer_id, bool):
        customer_id = str(customer_id)
    if (
        not isinstance(customer_id, str)
        or not customer_id.strip()
        or len(customer_id) > MAX_CUSTOMER_ID
        or not customer_id.isprintable()
    ):
        raise _invalid(
            "customer.id", f"customer.id is the store's id of the customer, 1-{MAX_CUSTOMER_ID}."
        )
    email = raw.get("email")
    if email is not None and (
        not isinstance(email, str)
        or len(email) > MAX_EMAIL
        or not re.fullmatch(r"[^@\s]+@[^@\s]+", email)
    ):
        raise _invalid("customer.email", "customer.email is an email address, or null.")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or len(name.strip()) > MAX_NAME):
        raise _invalid("customer.name", f"customer.name is text of at most {MAX_NAME} chars.")
    tags = raw.get("tags")
    if tags is not None and (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(isinstance(tag, str) and TAG.fullmatch(tag) for tag in tags)
    ):
        raise _invalid(
            "customer.tags",
            f"customer.tags is a list of at most {MAX_TAGS} tags like 'vip' "
            "(a-z, 0-9, _ and -, up to 40).",
        )
    return Customer(
        id=customer_id,
        email=email,
        name=(name.strip() or None) if isinstance(name, str) else None,
        tags=None if tags is None else tuple(dict.fromkeys(tags)),
    )


def _invalid(field: str, message: str) -> InvalidCustomer:
    return InvalidCustomer(message, details=[{"field": field, "problem": message}])
