"""What a widget says about the shopper's page, kept only when well formed."""

from __future__ import annotations

from typing import Any

import pytest

from portside.services.visitors import clean_context

PAGE = {
    "url": "https://shop.example/products/linen-shirt?colour=blue",
    "title": "Linen shirt",
    "product": "linen-shirt",
    "referrer": "https://www.google.com/",
    "language": "en-US",
    "timezone": "America/New_York",
}


def test_well_formed_context_is_kept_under_column_names() -> None:
    assert clean_context(PAGE) == {
        "page_url": "https://shop.example/products/linen-shirt?colour=blue",
        "page_title": "Linen shirt",
        "product": "linen-shirt",
        "referrer": "https://www.google.com/",
        "language": "en-US",
        "timezone": "America/New_York",
    }


@pytest.mark.parametrize("raw", [None, "https://shop.example/", ["url"], 42, [("url", "x")]])
def test_anything_but_an_object_gives_no_context(raw: object) -> None:
    assert clean_context(raw) == {}


def test_unknown_fields_are_dropped() -> None:
    assert clean_context({"title": "Cart", "cookie": "session=abc"}) == {"page_title": "Cart"}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "//shop.example/",
        "/products/linen-shirt",
        "",
        42,
    ],
)
def test_urls_that_are_not_http_are_dropped(url: object) -> None:
    cleaned = clean_context({"url": url, "referrer": url})
    assert "page_url" not in cleaned
    assert "referrer" not in cleaned


def test_text_fields_are_trimmed_of_whitespace() -> None:
    cleaned = clean_context({"url": "  https://shop.example/  ", "title": "\n Linen shirt \t"})
    assert cleaned == {"page_url": "https://shop.example/", "page_title": "Linen shirt"}


def test_blank_title_is_dropped() -> None:
    assert clean_context({"title": "   "}) == {}


def test_over_long_fields_are_cut_to_their_limits() -> None:
    url = "https://shop.example/" + "p" * 3000
    cleaned = clean_context({"url": url, "referrer": url, "title": "T" * 900})
    assert cleaned["page_url"] == url[:2000]
    assert cleaned["referrer"] == url[:2000]
    assert cleaned["page_title"] == "T" * 500


@pytest.mark.parametrize("product", ["linen-shirt", "SKU_123", "a", "9" + "x" * 199])
def test_product_slugs_are_kept(product: str) -> None:
    assert clean_context({"product": product}) == {"product": product}


@pytest.mark.parametrize(
    "product",
    [
        "",
        "-leading-dash",
        "has space",
        "../../admin",
        "shirt<script>",
        "x" * 201,
        "linen-shirt\n",
        "chemise-été",
        17,
    ],
)
def test_invalid_product_slugs_are_dropped(product: object) -> None:
    assert clean_context({"product": product}) == {}


@pytest.mark.parametrize("language", ["en", "es-MX", "zh-Hans-CN", "pt-BR", "yue"])
def test_language_tags_are_kept(language: str) -> None:
    assert clean_context({"language": language}) == {"language": language}


@pytest.mark.parametrize(
    "language", ["", "e", "english-language-tag", "en_US ", "en-US\n", "en;q=0.9", "12", None, 1]
)
def test_invalid_language_tags_are_dropped(language: object) -> None:
    assert clean_context({"language": language}) == {}


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "America/Sao_Paulo", "UTC"])
def test_known_time_zones_are_kept(timezone: str) -> None:
    assert clean_context({"timezone": timezone}) == {"timezone": timezone}


@pytest.mark.parametrize(
    "timezone", ["Mars/Olympus_Mons", "asia/shanghai", "+08:00", "../../etc/passwd", "", 8]
)
def test_unknown_time_zones_are_dropped(timezone: Any) -> None:
    assert clean_context({"timezone": timezone}) == {}


def test_one_bad_field_does_not_spoil_the_others() -> None:
    cleaned = clean_context({**PAGE, "url": "javascript:void(0)", "timezone": "Nowhere/Land"})
    assert "page_url" not in cleaned
    assert "timezone" not in cleaned
    assert cleaned["page_title"] == "Linen shirt"
    assert cleaned["product"] == "linen-shirt"
