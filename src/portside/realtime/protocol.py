"""Parsing client frames of protocol version 1 (see docs/protocol.md)."""

from __future__ import annotations

import json
from typing import Any

from portside.errors import PortsideError

VERSION = 1
MAX_FRAME_BYTES = 64 * 1024

WIDGET_TYPES = frozenset(
    {
        "hello",
        "message.send",
        "typing",
        "sync",
        "context.update",
        "person.request",
        "csat.submit",
        "track",
        "identify",
        "ping",
        "pong",
    }
)
CONSOLE_TYPES = frozenset(
    {
        "hello",
        "message.send",
        "note.send",
        "typing",
        "sync",
        "follow",
        "presence.set",
        "activity",
        "ping",
        "pong",
    }
)
ALL_TYPES = WIDGET_TYPES | CONSOLE_TYPES


class MalformedFrame(PortsideError):
    code = "malformed_frame"


class UnsupportedVersion(PortsideError):
    code = "unsupported_version"


class HelloRequired(PortsideError):
    code = "hello_required"
    status = 401


class UnknownStore(PortsideError):
    code = "unknown_store"
    status = 404


class OriginNotAllowed(PortsideError):
    code = "origin_not_allowed"
    status = 403


class Close:
    """WebSocket close codes of the protocol."""

    PROTOCOL = 4400
    NOT_AUTHENTICATED = 4401
    ORIGIN = 4403
    UNKNOWN_STORE = 4404
    HEARTBEAT = 4408
    # The shopper was erased (DELETE /api/v1/visitors/{id}): reconnect as a new one.
    ERASED = 4410
    TOO_MANY = 4429
    OVERLOADED = 1013
    RESTARTING = 1012


def parse_frame(text: str | bytes) -> dict[str, Any]:
    """A client frame as a dict with a known `type`; raises MalformedFrame or UnsupportedVersion."""
    if isinstance(text, bytes):
        raise MalformedFrame("Frames are JSON text, not binary.")
    # The limit is in bytes, as on the wire: a character can take up to four of them.
    if len(text) > MAX_FRAME_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise MalformedFrame(f"A frame can have at most {MAX_FRAME_BYTES} bytes.")
    try:
        frame = json.loads(text)
    except ValueError:
        raise MalformedFrame("A frame must be one JSON object.") from None
    if not isinstance(frame, dict):
        raise MalformedFrame("A frame must be one JSON object.")
    version = frame.get("v", VERSION)
    if isinstance(version, bool) or version != VERSION:  # true == 1 in Python, not in JSON
        raise UnsupportedVersion(f"This server speaks protocol version {VERSION}.")
    kind = frame.get("type")
    if not isinstance(kind, str) or kind not in ALL_TYPES:
        raise MalformedFrame(f"Unknown frame type {kind!r}.")
    ref = frame.get("ref")
    if ref is not None and not (isinstance(ref, str | int) and len(str(ref)) <= 64):
        raise MalformedFrame("ref must be a short string or number.")
    return frame


def optional_int(frame: dict[str, Any], name: str) -> int | None:
    value = frame.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedFrame(f"{name} must be a non-negative integer.")
    return value


def required_int(frame: dict[str, Any], name: str) -> int:
    value = optional_int(frame, name)
    if value is None:
        raise MalformedFrame(f"This frame needs {name}.")
    return value


def frame_bool(frame: dict[str, Any], name: str) -> bool:
    value = frame.get(name)
    if not isinstance(value, bool):
        raise MalformedFrame(f"{name} must be true or false.")
    return value


def error_frame(error: PortsideError, ref: object = None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "v": VERSION,
        "type": "error",
        "code": error.code,
        "message": error.message,
    }
    if ref is not None:
        frame["ref"] = ref
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        frame["retry_after"] = round(retry_after, 1)
    return frame


def frame(kind: str, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": kind, **fields}


def encode(message: dict[str, Any]) -> str:
    """A server frame as the compact JSON text that goes on the wire."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
