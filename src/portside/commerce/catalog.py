"""Products of the built-in store: validated on the way in, plain JSON on the way out.

`parse_catalog` is the only door: whatever it returns is consistent (variants only use the
product's sizes and colours, fibre percentages add up), so the server, the demo pages and the
AI agent can trust a stored product dict without checking it again.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib.resources import files
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SKU = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
_CENT = Decimal("0.01")


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a slug: use lowercase letters, digits and single hyphens, "
            "like 'linen-shirt'"
        )
    return value


def _check_sku(value: str) -> str:
    if not _SKU.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a SKU: use capital letters, digits and single hyphens, "
            "like 'LP-WLS-SAN-M'"
        )
    return value


Slug = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_check_slug)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Centimetres = Annotated[StrictInt, Field(gt=0, le=10_000)]


class _Model(BaseModel):
    # extra="forbid" turns a misspelt key in the catalogue ("colour") into an error, not a
    # silently missing value.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Material(_Model):
    fibre: Annotated[str, Field(pattern=r"^[a-z][a-z -]*$", max_length=40)]
    percent: Annotated[StrictInt, Field(gt=0, le=100)]
    # Where the fibre is, for garments with more than one fabric ("shell", "filling",
    # "lining"). Percentages add up to 100 within each part.
    part: Text | None = None


class Variant(_Model):
    sku: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_sku)]
    size: Text
    color: Text
    stock: Annotated[StrictInt, Field(ge=0)]


class Product(_Model):
    # Field order matters: validators of later fields read the earlier ones (sizes, colors)
    # from `info.data`.
    slug: Slug
    name: Text
    names: dict[LanguageCode, Text]
    category: Slug
    price: Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    materials: Annotated[list[Material], Field(min_length=1)]
    care: Annotated[list[Annotated[str, Field(min_length=1, max_length=300)]], Field(min_length=1)]
    # The care lines in other languages, line for line, by language code.
    care_i18n: dict[LanguageCode, list[Annotated[str, Field(min_length=1, max_length=300)]]] = (
        Field(default_factory=dict)
    )
    machine_washable: StrictBool
    sizes: Annotated[list[Text], Field(min_length=1)]
    colors: Annotated[list[Text], Field(min_length=1)]
    size_chart: dict[str, dict[str, Centimetres]] | None
    variants: Annotated[list[Variant], Field(min_length=1)]
    description: LongText
    origin: Text
    weight_g: Annotated[StrictInt, Field(gt=0)]
    image_hue: Annotated[StrictInt, Field(ge=0, lt=360)]

    @field_validator("price")
    @classmethod
    def _two_decimals(cls, price: Decimal) -> Decimal:
        # "39" and "39.00" are the same price; always serve the second.
        return price.quantize(_CENT)

    @field_validator("materials")
    @classmethod
    def _percentages_add_up(cls, materials: list[Material]) -> list[Material]:
        if len({material.part is None for material in materials}) > 1:
            raise ValueError("give every material a part (shell, filling...), or none")
        totals: dict[str | None, int] = {}
        fibres: set[tuple[str | None, str]] = set()
        for material in materials:
            key = (material.part, material.fibre)
            if key in fibres:
                raise ValueError(f"{material.fibre!r} is listed twice{_in_part(material.part)}")
            fibres.add(key)
            totals[material.part] = totals.get(material.part, 0) + material.percent
        for part, total in totals.items():
            if total != 100:
                raise ValueError(f"percentages{_in_part(part)} add up to {total}, not 100")
        return materials

    @field_validator("care_i18n")
    @classmethod
    def _care_line_for_line(
        cls, translations: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        lines = len(info.data.get("care", []))
        for lang, care in translations.items():
            if len(care) != lines:
                raise ValueError(
                    f"care_i18n[{lang!r}] has {len(care)} lines; care has {lines}: "
                    "translate it line for line"
                )
        return translations

    @field_validator("sizes", "colors")
    @classmethod
    def _no_repeats(cls, values: list[str], info: ValidationInfo) -> list[str]:
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"{info.field_name} lists {', '.join(map(repr, repeated))} twice")
        return values

    @field_validator("size_chart")
    @classmethod
    def _chart_matches_sizes(
        cls, chart: dict[str, dict[str, int]] | None, info: ValidationInfo
    ) -> dict[str, dict[str, int]] | None:
        if chart is None:
            return None
        sizes: list[str] = info.data.get("sizes", [])
        unknown = [size for size in chart if size not in sizes]
        if sizes and unknown:
            raise ValueError(f"size {unknown[0]!r} is not one of the sizes {sizes}")
        columns = {tuple(row) for row in chart.values()}
        if len(columns) > 1 or () in columns:
            raise ValueError("every size needs the same, non-empty set of measurements")
        return chart

    @field_validator("variants")
    @classmethod
    def _variants_match_options(
        cls, variants: list[Variant], info: ValidationInfo
    ) -> list[Variant]:
        sizes: list[str] | None = info.data.get("sizes")
        colors: list[str] | None = info.data.get("colors")
        skus: set[str] = set()
        options: set[tuple[str, str]] = set()
        for variant in variants:
            if sizes is not None and variant.size not in sizes:
                raise ValueError(
                    f"variant {variant.sku} has size {variant.size!r}, "
                    f"which is not one of the sizes {sizes}"
                )
            if colors is not None and variant.color not in colors:
                raise ValueError(
                    f"variant {variant.sku} has colour {variant.color!r}, "
                    f"which is not one of the colors {colors}"
                )
            if variant.sku in skus:
                raise ValueError(f"SKU {variant.sku} is used twice")
            if (variant.size, variant.color) in options:
                raise ValueError(f"two variants are {variant.color} in size {variant.size}")
            skus.add(variant.sku)
            options.add((variant.size, variant.color))
        return variants

    def to_dict(self) -> dict[str, Any]:
        """The product as the server stores and serves it: JSON types only, price a string."""
        return self.model_dump(mode="json")


def parse_catalog(raw: object) -> list[Product]:
    """Validate a decoded JSON catalogue (a list of product objects).

    Raises ValueError naming the product and the field at fault.
    """
    if not isinstance(raw, list):
        raise ValueError(f"A catalogue is a list of products, not {type(raw).__name__}.")
    products: list[Product] = []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        label = _label(index, item)
        if not isinstance(item, dict):
            raise ValueError(f"{label} is {type(item).__name__}, not an object.")
        try:
            product = Product.model_validate(item)
        except ValidationError as exc:
            raise ValueError(f"{label}: {_describe(exc)}.") from exc
        if product.slug in first_seen:
            raise ValueError(
                f"{label}: slug {product.slug!r} is already used by product "
                f"#{first_seen[product.slug] + 1}."
            )
        first_seen[product.slug] = index
        products.append(product)
    return products


def load_demo_catalog() -> list[Product]:
    """The products of the demo store, Lotus & Pine, with their names and care
    instructions in every language of `demo_catalog_i18n.json`."""
    folder = files("portside.commerce")
    items = json.loads(folder.joinpath("demo_catalog.json").read_text(encoding="utf-8"))
    i18n = json.loads(folder.joinpath("demo_catalog_i18n.json").read_text(encoding="utf-8"))
    for item in items:
        item["names"] = {**i18n["names"].get(item["slug"], {}), **item.get("names", {})}
        item["care_i18n"] = {
            lang: [i18n["care"][line][lang] for line in item["care"]] for lang in i18n["languages"]
        }
    return parse_catalog(items)


def _in_part(part: str | None) -> str:
    return "" if part is None else f" in the {part}"


def _label(index: int, item: object) -> str:
    label = f"Product #{index + 1}"
    if isinstance(item, dict):
        for key in ("slug", "name"):
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                return f"{label} ({value.strip()[:80]!r})"
    return label


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in error["loc"]
            if part != "[key]"  # pydantic's marker for "the key of this dict entry"
        )
        if error["type"] == "value_error":
            # Our own validators' messages, without pydantic's "Value error, " prefix.
            message = str(error["ctx"]["error"])
        else:
            message = error["msg"]
            value = error["input"]
            if isinstance(value, str):
                message += f" (got {value[:80]!r})"
            elif isinstance(value, int | float | Decimal):
                message += f" (got {value})"
        problems.append(f"{where.lstrip('.') or 'product'}: {message}")
    return "; ".join(problems)
