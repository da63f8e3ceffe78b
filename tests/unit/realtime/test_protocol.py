"""Parsing client frames of protocol version 1, and the error frames that answer them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portside.errors import NotFound, RateLimited
from portside.realtime.protocol import (
    CONSOLE_TYPES,
    MAX_FRAME_BYTES,
    WIDGET_TYPES,
    MalformedFrame,
    UnsupportedVersion,
    error_frame,
    frame,
    frame_bool,
    optional_int,
    parse_frame,
    required_int,
)


@pytest.mark.parametrize("kind", sorted(WIDGET_TYPES | CONSOLE_TYPES))
def test_every_documented_frame_type_parses(kind: str) -> None:
    assert parse_frame(json.dumps({"v": 1, "type": kind}))["type"] == kind


def test_parsed_frame_keeps_all_its_fields() -> None:
    text = json.dumps({"v": 1, "type": "message.send", "client_id": "c1", "text": "hi", "ref": 7})
    assert parse_frame(text) == {
        "v": 1,
        "type": "message.send",
        "client_id": "c1",
        "text": "hi",
        "ref": 7,
    }


def test_frame_without_v_is_taken_as_version_1() -> None:
    assert parse_frame('{"type": "ping"}') == {"type": "ping"}


@pytest.mark.parametrize("text", ["", "{", "not json", "{'type': 'ping'}", '{"type": "ping"} x'])
def test_non_json_is_malformed(text: str) -> None:
    with pytest.raises(MalformedFrame, match="one JSON object") as caught:
        parse_frame(text)
    assert caught.value.code == "malformed_frame"


@pytest.mark.parametrize("text", ["[]", '[{"type": "ping"}]', '"ping"', "1", "null", "true"])
def test_json_that_is_not_an_object_is_malformed(text: str) -> None:
    with pytest.raises(MalformedFrame, match="one JSON object"):
        parse_frame(text)


def test_binary_frames_are_malformed() -> None:
    with pytest.raises(MalformedFrame, match="not binary"):
        parse_frame(b'{"v": 1, "type": "ping"}')


def _padded(size: int, pad: str = "a") -> str:
    """A valid ping frame of exactly `size` UTF-8 bytes (pad must be one character)."""
    empty = '{"type":"ping","pad":""}'
    count = (size - len(empty)) // len(pad.encode())
    text = '{"type":"ping","pad":"' + pad * count + '"}'
    assert len(text.encode()) == size
    return text


def test_frame_of_exactly_the_maximum_size_parses() -> None:
    assert parse_frame(_padded(MAX_FRAME_BYTES))["type"] == "ping"


def test_oversized_frame_is_malformed() -> None:
    with pytest.raises(MalformedFrame, match=f"at most {MAX_FRAME_BYTES} bytes"):
        parse_frame(_padded(MAX_FRAME_BYTES + 1))


def test_frame_size_is_counted_in_bytes_not_characters() -> None:
    # 3-byte characters: well under the limit in characters, well over it in bytes.
    text = '{"type":"ping","pad":"' + "货" * (MAX_FRAME_BYTES // 2) + '"}'
    assert len(text) < MAX_FRAME_BYTES < len(text.encode())
    with pytest.raises(MalformedFrame, match="bytes"):
        parse_frame(text)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"type": None},
        {"type": 3},
        {"type": "message.delete"},
        {"type": "PING"},
        {"type": ["ping"]},
        {"type": "welcome"},  # a server frame, not a client one
    ],
)
def test_unknown_type_is_malformed(fields: dict[str, Any]) -> None:
    with pytest.raises(MalformedFrame, match="Unknown frame type"):
        parse_frame(json.dumps({"v": 1, **fields}))


@pytest.mark.parametrize("version", [0, 2, "1", None, [1], True])
def test_other_versions_are_unsupported(version: object) -> None:
    with pytest.raises(UnsupportedVersion) as caught:
        parse_frame(json.dumps({"v": version, "type": "ping"}))
    assert caught.value.code == "unsupported_version"


def test_version_is_checked_before_the_type() -> None:
    # A future client may send types this server does not know: say "version", not "type".
    with pytest.raises(UnsupportedVersion):
        parse_frame(json.dumps({"v": 2, "type": "reaction.add"}))


@pytest.mark.parametrize("ref", ["r-1", 0, 17, "x" * 64, 10**63])
def test_short_string_or_integer_ref_is_accepted(ref: object) -> None:
    assert parse_frame(json.dumps({"type": "ping", "ref": ref}))["ref"] == ref


@pytest.mark.parametrize("ref", ["x" * 65, 10**64, [1], {"id": 1}, 1.5])
def test_bad_ref_is_malformed(ref: object) -> None:
    with pytest.raises(MalformedFrame, match="ref must be"):
        parse_frame(json.dumps({"type": "ping", "ref": ref}))


def test_optional_int_reads_non_negative_integers_and_absence() -> None:
    assert optional_int({"after_seq": 0}, "after_seq") == 0
    assert optional_int({"after_seq": 41}, "after_seq") == 41
    assert optional_int({}, "after_seq") is None
    assert optional_int({"after_seq": None}, "after_seq") is None


@pytest.mark.parametrize("value", [True, False, -1, 1.0, 2.5, "3", [3]])
def test_optional_int_refuses_anything_but_a_non_negative_integer(value: object) -> None:
    with pytest.raises(MalformedFrame, match="after_seq must be a non-negative integer"):
        optional_int({"after_seq": value}, "after_seq")


def test_required_int_reads_integers() -> None:
    assert required_int({"conversation_id": 12}, "conversation_id") == 12


def test_required_int_refuses_absence_naming_the_field() -> None:
    with pytest.raises(MalformedFrame, match="needs conversation_id"):
        required_int({}, "conversation_id")
    with pytest.raises(MalformedFrame, match="needs conversation_id"):
        required_int({"conversation_id": None}, "conversation_id")


@pytest.mark.parametrize("value", [True, False])
def test_required_int_refuses_booleans(value: bool) -> None:
    with pytest.raises(MalformedFrame):
        required_int({"conversation_id": value}, "conversation_id")


@pytest.mark.parametrize("value", [True, False])
def test_frame_bool_reads_booleans(value: bool) -> None:
    assert frame_bool({"state": value}, "state") is value


@pytest.mark.parametrize(
    "fields", [{}, {"state": None}, {"state": 1}, {"state": 0}, {"state": "true"}]
)
def test_frame_bool_refuses_anything_but_true_or_false(fields: dict[str, Any]) -> None:
    with pytest.raises(MalformedFrame, match="state must be true or false"):
        frame_bool(fields, "state")


def test_error_frame_carries_code_message_and_ref() -> None:
    assert error_frame(NotFound("This conversation does not exist."), ref="r7") == {
        "v": 1,
        "type": "error",
        "code": "not_found",
        "message": "This conversation does not exist.",
        "ref": "r7",
    }


def test_error_frame_without_ref_has_no_ref_field() -> None:
    assert "ref" not in error_frame(NotFound("gone"))


def test_error_frame_keeps_a_zero_ref() -> None:
    assert error_frame(NotFound("gone"), ref=0)["ref"] == 0


def test_rate_limited_error_frame_says_when_to_retry() -> None:
    sent = error_frame(RateLimited("Too many messages.", retry_after=4.26), ref=3)
    assert sent["code"] == "rate_limited"
    assert sent["retry_after"] == 4.3
    assert sent["ref"] == 3


def test_other_error_frames_have_no_retry_after() -> None:
    assert "retry_after" not in error_frame(NotFound("gone"))


def test_frame_builds_a_version_1_frame() -> None:
    assert frame("synced", conversation_id=3, last_seq=9, more=False) == {
        "v": 1,
        "type": "synced",
        "conversation_id": 3,
        "last_seq": 9,
        "more": False,
    }
