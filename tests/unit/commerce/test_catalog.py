"""The built-in store's catalogue: the demo data is sound, and bad catalogues are refused
with a message that names the product and the field."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from portside.commerce.catalog import Product, load_demo_catalog, parse_catalog

SHOPPER_LANGUAGES = {"zh", "es", "ja", "de", "fr"}
DELICATE_FIBRES = {"silk", "wool", "cashmere"}


@pytest.fixture(scope="module")
def demo() -> list[Product]:
    return load_demo_catalog()


def _fibres(product: Product) -> set[str]:
    return {material.fibre for material in product.materials}


def _care(product: Product) -> list[str]:
    return [line.lower() for line in product.care]


# ---- the demo catalogue ----------------------------------------------------------------------


def test_demo_catalogue_loads_with_enough_products_to_browse(demo: list[Product]) -> None:
    assert len(demo) >= 25


def test_demo_slugs_are_unique(demo: list[Product]) -> None:
    slugs = [product.slug for product in demo]
    assert len(set(slugs)) == len(slugs)


def test_demo_covers_clothing_and_home_textiles(demo: list[Product]) -> None:
    categories = {product.category for product in demo}
    expected = {"shirts", "dresses", "knitwear", "outerwear", "bedding", "towels", "accessories"}
    assert expected <= categories


def test_demo_products_are_named_in_the_main_shopper_languages(demo: list[Product]) -> None:
    for product in demo:
        assert product.names.keys() >= SHOPPER_LANGUAGES, product.slug
        assert all(name.strip() for name in product.names.values()), product.slug


def test_demo_products_are_priced_in_dollars_and_cents(demo: list[Product]) -> None:
    for product in demo:
        served = product.to_dict()
        assert served["currency"] == "USD"
        assert re.fullmatch(r"[1-9]\d*\.\d\d", served["price"]), product.slug


def test_demo_products_are_made_in_china_with_plausible_details(demo: list[Product]) -> None:
    for product in demo:
        assert product.origin == "China"
        assert 2 <= product.description.count(".") <= 4, product.slug
        assert 0 < product.weight_g < 5000, product.slug


def test_every_demo_product_can_be_bought_but_some_variants_are_sold_out(
    demo: list[Product],
) -> None:
    for product in demo:
        assert any(variant.stock > 0 for variant in product.variants), product.slug
    sold_out = [v for product in demo for v in product.variants if v.stock == 0]
    assert len(sold_out) >= 10


def test_demo_offers_every_size_and_colour_it_lists(demo: list[Product]) -> None:
    for product in demo:
        offered = {(variant.size, variant.color) for variant in product.variants}
        assert {v.size for v in product.variants} == set(product.sizes), product.slug
        assert {v.color for v in product.variants} == set(product.colors), product.slug
        assert len(offered) == len(product.variants)


def test_demo_size_charts_cover_every_size(demo: list[Product]) -> None:
    for product in demo:
        if product.size_chart is not None:
            assert list(product.size_chart) == product.sizes, product.slug


# ---- care instructions agree with the fabric --------------------------------------------------


def test_care_says_machine_wash_exactly_when_the_product_is_machine_washable(
    demo: list[Product],
) -> None:
    for product in demo:
        says_so = any(line.startswith("machine wash") for line in _care(product))
        assert says_so == product.machine_washable, product.slug


def test_silk_wool_and_cashmere_go_in_the_machine_only_on_a_gentle_cycle(
    demo: list[Product],
) -> None:
    for product in demo:
        if not _fibres(product) & DELICATE_FIBRES:
            continue
        care = _care(product)
        if product.machine_washable:
            how = [line for line in care if line.startswith("machine wash")]
            assert any(word in how[0] for word in ("wool", "delicate", "gentle")), product.slug
            assert any("cold" in line for line in how), product.slug
        else:
            gentle_ways = ("hand wash", "dry clean", "spot clean")
            assert any(way in line for line in care for way in gentle_ways), product.slug


def test_silk_wool_and_cashmere_are_never_tumble_dried(demo: list[Product]) -> None:
    for product in demo:
        if _fibres(product) & DELICATE_FIBRES:
            for line in _care(product):
                if "tumble dry" in line:
                    assert line.startswith("do not"), (product.slug, line)


def test_leather_is_only_spot_cleaned(demo: list[Product]) -> None:
    for product in demo:
        if "leather" in _fibres(product):
            assert not product.machine_washable, product.slug
            assert any(line.startswith("spot clean") for line in _care(product)), product.slug


def test_down_is_washed_with_down_detergent_and_dried_right_through(demo: list[Product]) -> None:
    down = [product for product in demo if "down" in _fibres(product)]
    assert down
    for product in down:
        care = _care(product)
        assert any("down" in line and "detergent" in line for line in care), product.slug
        assert any("tumble dry" in line and "completely dry" in line for line in care)


def test_linen_is_washed_warm_and_not_with_bleach(demo: list[Product]) -> None:
    for product in demo:
        if _fibres(product) == {"linen"}:
            care = _care(product)
            assert product.machine_washable, product.slug
            assert any("40 °c" in line for line in care), product.slug
            assert any("bleach" in line and line.startswith("do not") for line in care)


# ---- what the server stores --------------------------------------------------------------------


def test_to_dict_is_plain_json_with_the_price_as_a_string(demo: list[Product]) -> None:
    served = demo[0].to_dict()
    assert json.loads(json.dumps(served)) == served
    assert isinstance(served["price"], str)
    assert set(served["variants"][0]) == {"sku", "size", "color", "stock"}


def test_a_served_product_parses_back_to_the_same_product(demo: list[Product]) -> None:
    assert parse_catalog([product.to_dict() for product in demo]) == demo


def test_a_price_without_cents_is_served_with_cents() -> None:
    [product] = parse_catalog([_product(price="39")])
    assert product.to_dict()["price"] == "39.00"


def test_materials_may_be_given_per_part() -> None:
    materials = [
        {"fibre": "polyamide", "percent": 100, "part": "shell"},
        {"fibre": "down", "percent": 90, "part": "filling"},
        {"fibre": "feather", "percent": 10, "part": "filling"},
    ]
    [product] = parse_catalog([_product(materials=materials)])
    assert [m.part for m in product.materials] == ["shell", "filling", "filling"]


# ---- bad catalogues ------------------------------------------------------------------------


def _product(**changes: Any) -> dict[str, Any]:
    """A small valid product, written out here so that edits to the demo data cannot break
    these tests."""
    product: dict[str, Any] = {
        "slug": "linen-shirt",
        "name": "Linen Shirt",
        "names": {"zh": "亚麻衬衫", "fr": "Chemise en lin"},
        "category": "shirts",
        "price": "39.00",
        "currency": "USD",
        "materials": [{"fibre": "linen", "percent": 100}],
        "care": ["Machine wash at 40 °C on a gentle cycle", "Line dry"],
        "machine_washable": True,
        "sizes": ["S", "M"],
        "colors": ["Sand", "Sage"],
        "size_chart": {
            "S": {"chest_cm": 100, "length_cm": 70},
            "M": {"chest_cm": 106, "length_cm": 72},
        },
        "variants": [
            {"sku": "LP-LS-SAN-S", "size": "S", "color": "Sand", "stock": 3},
            {"sku": "LP-LS-SAN-M", "size": "M", "color": "Sand", "stock": 0},
            {"sku": "LP-LS-SAG-M", "size": "M", "color": "Sage", "stock": 7},
        ],
        "description": "A relaxed linen shirt. Pre-washed.",
        "origin": "China",
        "weight_g": 250,
        "image_hue": 38,
    }
    product.update(copy.deepcopy(changes))
    return product


def _changed(path: str, value: Any) -> dict[str, Any]:
    """The valid product with one value replaced; `path` is like "variants.1.stock"."""
    product = _product()
    *parents, last = path.split(".")
    target: Any = product
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return product


def test_the_valid_example_is_valid() -> None:
    assert [p.slug for p in parse_catalog([_product()])] == ["linen-shirt"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("slug", "Linen Shirt", r"\('Linen Shirt'\): slug: 'Linen Shirt' is not a slug"),
        ("slug", "linen--shirt", r"slug: 'linen--shirt' is not a slug"),
        ("category", "Home Textiles", r"category: 'Home Textiles' is not a slug"),
        ("price", "-5.00", r"price: Input should be greater than 0 \(got '-5.00'\)"),
        ("price", "0", r"price: Input should be greater than 0"),
        ("price", "9.999", r"price: Decimal input should have no more than 2 decimal places"),
        ("price", "cheap", r"price: Input should be a valid decimal"),
        ("currency", "usd", r"currency: String should match pattern"),
        ("materials.0.percent", 90, r"materials: percentages add up to 90, not 100"),
        ("materials.0.percent", 0, r"materials\[0\]\.percent: Input should be greater than 0"),
        ("materials.0.fibre", "Linen!", r"materials\[0\]\.fibre: String should match pattern"),
        ("variants.1.size", "XXL", r"variants: variant LP-LS-SAN-M has size 'XXL', which is not"),
        ("variants.1.color", "Red", r"variants: variant LP-LS-SAN-M has colour 'Red'"),
        ("variants.1.stock", -1, r"variants\[1\]\.stock: Input should be greater than or equal"),
        ("variants.1.stock", "5", r"variants\[1\]\.stock: Input should be a valid integer"),
        ("variants.1.sku", "LP-LS-SAN-S", r"variants: SKU LP-LS-SAN-S is used twice"),
        ("variants.1.sku", "lp ls", r"variants\[1\]\.sku: 'lp ls' is not a SKU"),
        ("sizes", ["S", "M", "S"], r"sizes: sizes lists 'S' twice"),
        ("size_chart.XL", {"chest_cm": 112, "length_cm": 74}, r"size_chart: size 'XL' is not one"),
        ("size_chart.M", {"chest_cm": 106}, r"size_chart: every size needs the same"),
        ("machine_washable", "yes", r"machine_washable: Input should be a valid boolean"),
        ("care", [], r"care: List should have at least 1 item"),
        ("image_hue", 400, r"image_hue: Input should be less than 360"),
        ("names.EN!", "Linen shirt", r"names\.EN!: String should match pattern"),
        ("colour", "Sand", r"colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_product_is_refused_naming_the_product_and_field(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        parse_catalog([_product(slug="other-shirt"), _changed(path, value)])
    assert str(raised.value).startswith("Product #2 (")


def test_percentages_add_up_to_100_within_each_part() -> None:
    materials = [
        {"fibre": "polyamide", "percent": 100, "part": "shell"},
        {"fibre": "down", "percent": 80, "part": "filling"},
    ]
    with pytest.raises(ValueError, match=r"materials: percentages in the filling add up to 80"):
        parse_catalog([_product(materials=materials)])


def test_materials_must_all_have_a_part_or_none() -> None:
    materials = [
        {"fibre": "polyamide", "percent": 100, "part": "shell"},
        {"fibre": "down", "percent": 100},
    ]
    with pytest.raises(ValueError, match=r"materials: give every material a part"):
        parse_catalog([_product(materials=materials)])


def test_a_missing_field_is_named() -> None:
    product = _product()
    del product["price"]
    with pytest.raises(ValueError, match=r"^Product #1 \('linen-shirt'\): price: Field required"):
        parse_catalog([product])


def test_a_duplicate_slug_is_refused_naming_both_products() -> None:
    with pytest.raises(
        ValueError, match=r"^Product #3 \('linen-shirt'\): slug 'linen-shirt' is already used by"
    ) as raised:
        parse_catalog([_product(), _product(slug="silk-shirt"), _product()])
    assert str(raised.value).endswith("product #1.")


def test_a_product_without_a_slug_is_named_by_its_name() -> None:
    product = _product()
    del product["slug"]
    with pytest.raises(ValueError, match=r"^Product #1 \('Linen Shirt'\): slug: Field required"):
        parse_catalog([product])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"products": []}, r"^A catalogue is a list of products, not dict\.$"),
        ("[]", r"^A catalogue is a list of products, not str\.$"),
        ([_product(), 42], r"^Product #2 is int, not an object\.$"),
    ],
)
def test_something_that_is_not_a_list_of_objects_is_refused(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_catalog(raw)


def test_every_problem_with_a_product_is_reported_at_once() -> None:
    product = _product(price="-1", weight_g=0)
    with pytest.raises(ValueError, match=r"price: .*; weight_g: Input should be greater than 0"):
        parse_catalog([product])


def test_demo_products_speak_every_language_of_the_agent(demo: list[Product]) -> None:
    every = {"zh", "es", "de", "fr", "ja", "pt", "ko", "ar", "ru"}
    for product in demo:
        assert product.names.keys() >= every, product.slug
        assert product.care_i18n.keys() == every, product.slug
        for lines in product.care_i18n.values():
            assert len(lines) == len(product.care), product.slug


def test_care_translations_go_line_for_line() -> None:
    product = _product()
    product["care_i18n"] = {"es": ["Lavar a máquina"]}
    lines = len(product["care"])
    if lines == 1:
        product["care"].append("Line dry")
        lines = 2
    with pytest.raises(ValueError, match=rf"care_i18n\['es'\] has 1 lines; care has {lines}"):
        parse_catalog([product])
