"""Errors a user can cause, each with a stable code and a message for people.

The code is part of the API and never changes; the message may.
"""

from __future__ import annotations


class PortsideError(Exception):
    """Base of every error Portside reports to a client."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidRequest(PortsideError):
    code = "invalid_request"


def field_error(field: str, message: str) -> InvalidRequest:
    """A refusal naming the field it is about (`details` as docs/api.md describes)."""
    return InvalidRequest(message, details=[{"field": field, "problem": message}])


class ImportInvalid(InvalidRequest):
    """An imported file with wrong lines; `details` lists them ({"line", "problem"})
    and nothing of the file was stored."""

    code = "import_invalid"


class MessageTooLong(PortsideError):
    code = "message_too_long"


class MessageEmpty(PortsideError):
    code = "message_empty"


class InvalidClientId(PortsideError):
    code = "invalid_client_id"


class InvalidTransition(PortsideError):
    code = "invalid_transition"


class NotAuthenticated(PortsideError):
    code = "not_authenticated"
    status = 401


class InvalidCredentials(PortsideError):
    code = "invalid_credentials"
    status = 401


class Forbidden(PortsideError):
    code = "forbidden"
    status = 403


class CsrfFailed(PortsideError):
    code = "csrf_failed"
    status = 403


class NotFound(PortsideError):
    code = "not_found"
    status = 404


class Conflict(PortsideError):
    code = "conflict"
    status = 409


class AlreadyRated(Conflict):
    """The shopper already answered this rating request."""

    code = "already_rated"


class RateLimited(PortsideError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenInvalid(PortsideError):
    code = "token_invalid"
    status = 401


class TokenExpired(PortsideError):
    code = "token_expired"
    status = 401


class EmailMalformed(PortsideError):
    """What was posted to the inbound email endpoint is not an email we can read."""

    code = "email_malformed"


class EmailTooLarge(PortsideError):
    code = "email_too_large"
    status = 413


class UnsupportedMediaType(PortsideError):
    code = "unsupported_media_type"
    status = 415


class ReplyTokenInvalid(PortsideError):
    """An inbound email names a conversation with a reply address we did not sign."""

    code = "reply_token_invalid"
    status = 403


class SignatureInvalid(PortsideError):
    """A webhook whose signature is missing, wrong, made with another store's secret,
    or older than the sender's signatures may be: nothing was stored."""

    code = "signature_invalid"
    status = 401


class SignatureExpired(SignatureInvalid):
    """A generic order webhook signed more than five minutes from now (a replay, or a
    sender's clock that is off)."""

    code = "signature_expired"


class PayloadTooLarge(PortsideError):
    code = "payload_too_large"
    status = 413


class TranslationUnavailable(PortsideError):
    """A message could not be translated (no translator for the pair, a time-out, a
    refused translation): nothing was stored. `details` names the pair and why."""

    code = "translation_unavailable"
    status = 503


class ServiceUnavailable(PortsideError):
    """A backing service is unreachable or missing. With `retry_after` (seconds) it is
    passing (the database restarting): nothing was stored and the client should send
    the same request again after that long."""

    code = "unavailable"
    status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InternalError(PortsideError):
    """A fault of ours, not the client's: what a client is told instead of nothing when
    handling its frame failed unexpectedly (the traceback goes to the log)."""

    code = "internal_error"
    status = 500
