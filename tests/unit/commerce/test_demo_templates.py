"""The demo store's pages render from the demo catalogue, load the chat widget for the store,
keep to the Content-Security-Policy (no inline script or style), and escape product data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import jinja2
import pytest

from portside.commerce.catalog import load_demo_catalog

WIDGET_SRC = "https://portside.example.com/widget.js"
EVIL = '<script>alert("x")</script>'


@dataclass(frozen=True)
class FakeStore:
    name: str = "Lotus & Pine"
    widget_key: str = "pk_demo_lotus_pine"


@dataclass
class Tag:
    name: str
    attrs: dict[str, str | None]
    text: str = ""


class _Page(HTMLParser):
    """Every start tag with its attributes; script elements also keep their text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []
        self._script: Tag | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Tag(tag, dict(attrs))
        self.tags.append(element)
        if tag == "script":
            self._script = element

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.text += data

    def by_testid(self, testid: str) -> list[Tag]:
        return [t for t in self.tags if t.attrs.get("data-testid") == testid]

    def one(self, testid: str) -> Tag:
        [tag] = self.by_testid(testid)
        return tag

    @property
    def scripts(self) -> list[Tag]:
        return [t for t in self.tags if t.name == "script"]


@dataclass
class Shop:
    env: jinja2.Environment
    products: list[dict[str, Any]]
    store: FakeStore = field(default_factory=FakeStore)

    def render(self, page: str, product: dict[str, Any] | None = None) -> str:
        template = self.env.get_template(f"demo/{page}.html")
        return template.render(
            store=self.store,
            widget_src=WIDGET_SRC,
            products=self.products,
            product=product,
            page=page,
        )


@pytest.fixture(scope="module")
def shop() -> Shop:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("portside.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return Shop(env, [product.to_dict() for product in load_demo_catalog()])


def _every_page(shop: Shop) -> list[tuple[str, str]]:
    pages = [("index", shop.render("index")), ("cart", shop.render("cart"))]
    pages += [(p["slug"], shop.render("product", p)) for p in shop.products]
    return pages


def test_index_shows_every_product_as_a_card_linking_to_its_page(shop: Shop) -> None:
    page = _Page(shop.render("index"))
    cards = page.by_testid("product-card")
    assert [card.attrs["data-slug"] for card in cards] == [p["slug"] for p in shop.products]
    links = {t.attrs.get("href") for t in page.tags if t.name == "a"}
    assert {f"/demo/products/{p['slug']}" for p in shop.products} <= links
    assert {"/demo/", "/demo/cart"} <= links


def test_every_page_has_the_cart_counter_and_the_shop_assets(shop: Shop) -> None:
    for name, html in _every_page(shop):
        page = _Page(html)
        assert page.one("cart-count").name == "span", name
        styles = [t.attrs.get("href") for t in page.tags if t.attrs.get("rel") == "stylesheet"]
        assert styles == ["/static/demo/shop.css"], name
        shop_js = [s for s in page.scripts if s.attrs.get("src") == "/static/demo/shop.js"]
        assert len(shop_js) == 1 and "defer" in shop_js[0].attrs, name


def test_product_page_has_everything_needed_to_choose_and_buy(shop: Shop) -> None:
    product = next(p for p in shop.products if p["slug"] == "washed-linen-shirt")
    html = shop.render("product", product)
    page = _Page(html)
    assert page.one("product-name").name == "h1"
    assert "$49.00" in html
    sizes = page.one("size-select")
    assert sizes.name == "select" and sizes.attrs["id"] == "size-select"
    assert any(t.name == "label" and t.attrs.get("for") == "size-select" for t in page.tags)
    assert page.one("color-select").name == "select"
    assert page.one("add-to-cart").name == "button"
    assert page.one("stock").attrs["data-stock"] != "0"  # the first variant in stock is chosen
    assert page.one("size-chart").name == "table"
    for instruction in product["care"]:
        assert f"<li>{instruction}</li>" in html
    assert "100% linen" in html
    assert product["description"] in html


def test_product_page_without_a_size_chart_has_no_table(shop: Shop) -> None:
    product = dict(shop.products[0], size_chart=None)
    page = _Page(shop.render("product", product))
    assert page.by_testid("size-chart") == []


def test_product_page_whose_variants_are_all_sold_out_says_so(shop: Shop) -> None:
    product = dict(shop.products[0])
    product["variants"] = [dict(v, stock=0) for v in product["variants"]]
    page = _Page(shop.render("product", product))
    assert page.one("stock").attrs["data-stock"] == "0"
    assert "disabled" in page.one("add-to-cart").attrs


def test_cart_page_has_an_item_template_a_total_and_a_checkout_step(shop: Shop) -> None:
    page = _Page(shop.render("cart"))
    assert page.one("cart-item").name == "li"
    assert page.one("cart-total").name == "strong"
    assert page.one("checkout").name == "button"
    assert "hidden" in page.one("checkout-step").attrs
    assert page.one("checkout-form").name == "form"


def test_every_page_ends_with_the_widget_tag_for_the_store(shop: Shop) -> None:
    for name, html in _every_page(shop):
        widget = _Page(html).scripts[-1]
        assert widget.attrs["src"] == WIDGET_SRC, name
        assert widget.attrs["data-store"] == "pk_demo_lotus_pine", name
        assert "async" in widget.attrs, name
        if name in ("index", "cart"):
            assert "data-product" not in widget.attrs
        else:
            assert widget.attrs["data-product"] == name
        assert re.search(r"<script src=\"[^\"]+\"[^>]*></script>\s*</body>\s*</html>\s*$", html)


def test_no_page_has_inline_script_style_or_event_handlers(shop: Shop) -> None:
    for name, html in _every_page(shop):
        page = _Page(html)
        for script in page.scripts:
            assert script.attrs.get("src") or script.attrs.get("type") == "application/json", name
        assert not [t for t in page.tags if t.name == "style"], name
        for tag in page.tags:
            assert "style" not in tag.attrs, (name, tag)
            assert not [a for a in tag.attrs if a.startswith("on")], (name, tag)
            assert not str(tag.attrs.get("href", "")).startswith("javascript:"), (name, tag)


def test_pages_embed_the_product_data_shop_js_reads(shop: Shop) -> None:
    cart = _Page(shop.render("cart")).scripts
    [data] = [s for s in cart if s.attrs.get("id") == "catalog-data"]
    assert json.loads(data.text) == shop.products
    product = shop.products[3]
    [data] = [s for s in _Page(shop.render("product", product)).scripts if s.attrs.get("id")]
    assert json.loads(data.text) == [product]


def test_product_data_with_markup_is_escaped_everywhere(shop: Shop) -> None:
    evil = dict(shop.products[0], name=EVIL, description=f"Nice. {EVIL}")
    colour = evil["colors"][0]
    odd_colour = 'Sand" onmouseover="alert(1)'
    evil["colors"] = [odd_colour, *evil["colors"][1:]]
    evil["variants"] = [
        dict(v, color=odd_colour) if v["color"] == colour else v for v in evil["variants"]
    ]
    products = [evil, *shop.products[1:]]
    evil_shop = Shop(shop.env, products)
    for name, html in [
        ("index", evil_shop.render("index")),
        ("product", evil_shop.render("product", evil)),
        ("cart", evil_shop.render("cart")),
    ]:
        assert EVIL not in html, name
        assert '</script>")' not in html, name
        page = _Page(html)
        # The markup did not end the JSON block early: it parses, with the name as given.
        blocks = [s for s in page.scripts if s.attrs.get("type") == "application/json"]
        assert len(blocks) == (0 if name == "index" else 1), name
        for block in blocks:
            assert EVIL in {p["name"] for p in json.loads(block.text)}, name
        for tag in page.tags:
            assert not [a for a in tag.attrs if a.startswith("on")], (name, tag)
        if name != "cart":
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, name
    options = [t for t in _Page(evil_shop.render("product", evil)).tags if t.name == "option"]
    assert odd_colour in {o.attrs.get("value") for o in options}
