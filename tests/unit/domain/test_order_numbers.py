"""Order numbers as shoppers write them, in ten languages, and the store's order each
names; postcodes, phone numbers, dates, prices and quantities are not orders."""

from __future__ import annotations

import pytest

from portside.domain.order_numbers import (
    OrderRef,
    find_order_numbers,
    find_order_refs,
    number_shapes,
    pick_order,
    spellings,
)

# A store with the built-in store's numbers, Shopify's and another shop's.
STORE = ["LP10231", "LP10232", "#1001", "#1002", "A-1001", "#20417"]


def named(
    text: str, *, bare: bool = False, asked: bool = False, store: list[str] = STORE
) -> str | None:
    refs = find_order_refs(text, bare=bare, asked=asked)
    return pick_order(refs, number_shapes(store), set(store))[0]


@pytest.mark.parametrize(
    "text",
    [
        "where is #1001?",
        "order number 1001",
        "my order no. 1001 hasn't arrived",
        "Order #1001 please",
        "mi pedido nº 1001 no ha llegado",
        "número de pedido: 1001",
        "meu pedido é o nº 1001",
        "Bestellnummer 1001",
        "Bestell-Nr. 1001, wo ist sie?",
        "ma commande n° 1001",
        "numéro de commande 1001",
        "заказ №1001",
        "номер заказа 1001",
        "رقم الطلب 1001",
        "رقم طلبي ١٠٠١",
        "订单号1001",
        "我的订单号是：１００１",
        "ご注文番号は1001です",
        "주문번호는 1001입니다",
        "주문 번호 1001",
    ],
)
def test_a_marked_number_names_the_order_in_every_language(text: str) -> None:
    # Marked as an order's number: read even where a postcode is expected.
    refs = find_order_refs(text, bare=False)
    assert [ref.text.lstrip("#") for ref in refs if ref.sure] == ["1001"]
    assert named(text) == "#1001"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("where's order 1001", "en"),
        ("pedido 1001", "es"),
        ("encomenda 1001", "pt"),
        ("meine Bestellung 1001", "de"),
        ("commande 1001", "fr"),
        ("заказ 1001", "ru"),
        ("طلبي 1001", "ar"),
        ("订单1001到哪了", "zh"),
        ("注文1001の件", "ja"),
        ("주문 1001", "ko"),
    ],
)
def test_an_order_word_and_a_number_is_an_order_when_one_is_expected(text: str, lang: str) -> None:
    expected = find_order_refs(text, bare=True)
    assert [(ref.text, ref.sure) for ref in expected] == [("1001", True)], lang
    # Otherwise it may be a quantity ("order 2000 pieces"): it counts if the store has it.
    assert [ref.sure for ref in find_order_refs(text, bare=False)] == [False]
    assert named(text) == "#1001"
    assert named(text.replace("1001", "3000")) is None


def test_the_stores_number_is_found_however_the_shopper_writes_it() -> None:
    assert named("where is LP10231?") == "LP10231"
    assert named("lp-10231") == "LP10231"
    assert named("LP 10231") == "LP10231"
    assert named("#10231") == "LP10231"  # the demo's way of asking
    assert named("10231", bare=True) == "LP10231"
    assert named("1001", bare=True) == "#1001"
    assert named("order A1001") == "A-1001"
    assert named("a-1001") == "A-1001"
    assert named("#20417") == "#20417"
    # Written as the store writes it, that order first, though "1001" is another's too.
    assert named("A-1001 and #1001") == "A-1001"


def test_a_number_the_store_has_not_is_said_back_only_when_it_is_surely_one() -> None:
    assert named("where is #55555") == "#55555"
    assert named("order number 4242") == "4242"
    assert named("99999", bare=True) == "99999"
    # With the letters the store's numbers start with: a mistyped number of the store.
    assert named("LP99999") == "LP99999"
    # A tracking number, a product: letters and digits, not the store's.
    assert named("tracking JD014600003828", bare=True) is None
    assert named("is the RTX 4090 in stock?", bare=True) is None
    # Four digits alone may be a year; as the answer to "what is your order number?",
    # it is one.
    assert named("where is my order from December 2024?", bare=True) is None
    assert named("4242", bare=True, asked=True) == "4242"


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("my postcode is 28013", False),
        ("mi código postal es 28013", False),
        ("PLZ 10115", False),
        ("〒150-0001", True),
        ("〒150 0001", True),
        ("the postcode is 28 013", False),
        ("call me on +34 612 345 678", True),
        ("my number is 612-345-678", True),
        ("ordered on 2026-12-04", True),
        ("it was 12.50 EUR", True),
        ("x@10231.com", True),
        ("https://shop.example/orders/10231", True),
        ("I ordered 2 shirts for 1500 yen", False),
        ("注文したのは1000円のシャツ", True),
        ("订单金额是1999元", True),
        ("3000원 주문했어요", True),
        ("it cost $1500", True),
        ("150 € order", True),
        ("the #1 shirt", False),
        ("size 42", True),
    ],
)
def test_postcodes_phones_dates_and_prices_are_not_orders(text: str, bare: bool) -> None:
    assert named(text, bare=bare) is None


def test_a_number_after_an_order_word_and_is_is_sure_only_as_the_answer() -> None:
    # Portuguese: "I got the order's postcode wrong, it is 4000 and not 4100".
    text = "Enganei-me no código postal da encomenda, é 4000 e não 4100"
    assert named(text, bare=True) is None
    assert named("my order is 1001", bare=True) == "#1001"  # the store has it
    assert named("my order is 4242", bare=True) is None
    assert named("my order is 4242", bare=True, asked=True) == "4242"
    assert named("الاوردر رقم 48213 اتشحن ولا لسه؟") == "48213"


def test_five_to_eight_digits_alone_are_an_order_only_when_one_is_expected() -> None:
    assert [(r.text, r.sure) for r in find_order_refs("28013", bare=True)] == [("28013", True)]
    assert find_order_refs("28013", bare=False) == []
    # A phone number's length: only if the store has it.
    assert [(r.text, r.sure) for r in find_order_refs("0612345678", bare=True)] == [
        ("0612345678", False)
    ]


def test_every_marked_number_of_a_message_in_order() -> None:
    text = "order #1001 and LP10231, not 28013; also заказ №1002"
    assert find_order_numbers(text) == ["#1001", "LP10231", "1002"]


def test_spellings_follow_the_stores_own_shapes() -> None:
    shapes = number_shapes(["LP10231", "LP10232", "#1001", "1001-EU"])
    assert shapes[0] == ("LP", "")
    ref = OrderRef("#1001", "1001", "")
    assert spellings(ref, shapes) == ["#1001", "LP1001", "1001-EU", "1001"]
    lettered = OrderRef("A1001", "1001", "A")
    assert spellings(lettered, shapes) == ["A1001", "A-1001"]
