"""Personal data is replaced before text reaches an LLM; what the bot needs stays."""

from __future__ import annotations

import pytest

from portside.domain.redaction import redact, restore


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("write to ana.garcia@example.com please", "write to [email] please"),
        ("mi correo es li.wei+shop@mail.example.cn", "mi correo es [email]"),
        ("call me at +34 612 345 678", "call me at [phone]"),
        ("mi móvil es 612 345 678", "mi móvil es [phone]"),
        ("(555) 123-4567 is my number", "[phone] is my number"),
        ("電話は090-1234-5678です", "電話は[phone]です"),
        ("我的手机 13812345678", "我的手机 [phone]"),
        ("Tel. +49 30 1234567", "Tel. [phone]"),
        ("mon numéro: 06 12 34 56 78", "mon numéro: [phone]"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
        ("cartão 5500-0000-0000-0004", "cartão [card]"),
        ("I live at 221B Baker Street, London", "I live at [address], London"),
        ("send it to 12 main st. please", "send it to [address] please"),
        ("vivo en Calle de Alcalá 42, Madrid", "vivo en [address], Madrid"),
        ("C/ Mayor, 5, 2ºB", "[address], 2ºB"),
        ("moro na Rua Augusta, nº 274", "moro na [address]"),
        ("Av. Paulista 1578, São Paulo", "[address], São Paulo"),
        ("Hauptstraße 5, 10115 Berlin", "[address], 10115 Berlin"),
        ("an die Berliner Str. 12a bitte", "an die [address] bitte"),
        ("12 rue de la Paix, Paris", "[address], Paris"),
        ("au 3 bis avenue Victor Hugo", "au [address]"),
    ],
)
def test_personal_data_is_replaced(text: str, redacted: str) -> None:
    assert redact(text).text == redacted


@pytest.mark.parametrize(
    "text",
    [
        "where is order LP-10023? and #1234?",
        "order LP10231, my postcode is 28013",
        "tracking JD014600003828 says nothing",
        "paid €129.99 for size 42, delivered 2026-03-03",
        "entregado el 03.12.2026 a las 14:30",
        "1,299.00 USD or 1.299,00 €",
        "Preis 49,90 € inkl. MwSt, Größe 38",
        "orders 10231 and 10232",
        "4111 1111 1111 1112 is not a card (Luhn)",
        "I bought 2 shirts on the street",
        "size 42 street style",
        "Die Straße ist 5 km lang",
        "el pedido 10231 de la calle",
        "Je voudrais 2 robes, taille 40",
        "注文番号は LP10234 です",
        "50% off until 31/12",
    ],
)
def test_what_the_bot_needs_is_kept(text: str) -> None:
    assert redact(text).text == text
    assert redact(text).replaced == []


def test_restore_puts_back_each_kind_in_order() -> None:
    draft = redact("Write to help@shop.example or call +34 612 345 678, or help2@shop.example.")
    assert draft.text == "Write to [email] or call [phone], or [email]."
    reworded = "You can reach us at [email] or [email], or phone [phone]."
    assert restore(reworded, draft.replaced) == (
        "You can reach us at help@shop.example or help2@shop.example, or phone +34 612 345 678."
    )


def test_restore_refuses_a_text_that_lost_or_invented_a_placeholder() -> None:
    draft = redact("Write to help@shop.example.")
    assert restore("Write to us.", draft.replaced) is None
    assert restore("Write to [email] or [phone].", draft.replaced) is None
    assert restore("No personal data here.", []) == "No personal data here."
