"""Checking what an admin types into a store's settings."""

from __future__ import annotations

import pytest

from portside.errors import InvalidRequest
from portside.services.stores import check_language, check_name, check_origin, check_timezone


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("HTTPS://Shop.Example.COM", "https://shop.example.com"),
        ("https://shop.example.com/", "https://shop.example.com"),
        ("  https://shop.example.com  ", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://shop.example.com:80/", "http://shop.example.com"),
        ("https://shop.example.com:8443", "https://shop.example.com:8443"),
        ("http://shop.example.com:443", "http://shop.example.com:443"),
        ("https://shop.example.com:80", "https://shop.example.com:80"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://[2001:DB8::1]", "https://[2001:db8::1]"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origin_is_normalised_to_what_browsers_send(given: str, origin: str) -> None:
    assert check_origin(given) == origin


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.com/products",
        "https://shop.example.com//",
        "https://shop.example.com?ref=ads",
        "https://shop.example.com/#top",
        "https://user@shop.example.com",
        "https://user:secret@shop.example.com",
    ],
)
def test_origin_with_path_query_or_user_is_refused(origin: str) -> None:
    with pytest.raises(InvalidRequest, match="only scheme://host") as caught:
        check_origin(origin)
    assert caught.value.code == "invalid_request"


@pytest.mark.parametrize(
    "origin",
    [
        "ftp://shop.example.com",
        "ws://shop.example.com",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "shop.example.com",
        "//shop.example.com",
        "https://",
        "",
        "null",
    ],
)
def test_origin_that_is_not_http_is_refused(origin: str) -> None:
    with pytest.raises(InvalidRequest, match="is not an origin"):
        check_origin(origin)


@pytest.mark.parametrize(
    "origin", ["https://shop.example.com:99999", "https://shop.example.com:http", "http://h:-1"]
)
def test_origin_with_a_bad_port_is_refused(origin: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid port"):
        check_origin(origin)


@pytest.mark.parametrize("origin", [None, 42, ["https://shop.example.com"]])
def test_origin_that_is_not_text_is_refused(origin: object) -> None:
    with pytest.raises(InvalidRequest, match="must be text"):
        check_origin(origin)


@pytest.mark.parametrize("code", ["en", "zh-Hans", "pt-BR", "de_AT", "yue"])
def test_known_languages_are_kept_as_given(code: str) -> None:
    assert check_language(code) == code


@pytest.mark.parametrize("code", ["xx", "klingon", "en--US", "123", "../en", ""])
def test_unknown_languages_are_refused(code: str) -> None:
    with pytest.raises(InvalidRequest):
        check_language(code)


@pytest.mark.parametrize("code", [None, 1, ["en"]])
def test_language_that_is_not_text_is_refused(code: object) -> None:
    with pytest.raises(InvalidRequest, match="a code like en"):
        check_language(code)


@pytest.mark.parametrize("name", ["Asia/Shanghai", "UTC", "America/Argentina/Buenos_Aires"])
def test_time_zones_are_kept(name: str) -> None:
    assert check_timezone(name) == name


@pytest.mark.parametrize("name", ["Asia/Atlantis", "GMT+8", "", None, 8])
def test_unknown_time_zones_are_refused(name: object) -> None:
    with pytest.raises(InvalidRequest, match="time zone name like Asia/Shanghai"):
        check_timezone(name)


def test_names_are_trimmed() -> None:
    assert check_name("  Linen & Co.  ", "store") == "Linen & Co."


def test_names_may_have_200_characters() -> None:
    assert check_name("n" * 200 + "   ", "store") == "n" * 200


def test_longer_names_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="store's name can have at most 200"):
        check_name("n" * 201, "store")


@pytest.mark.parametrize("name", ["", "   ", None, 42])
def test_missing_names_are_refused_saying_what_needs_one(name: object) -> None:
    with pytest.raises(InvalidRequest, match="The agent needs a name"):
        check_name(name, "agent")
