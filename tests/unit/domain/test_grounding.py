"""A translation stands for its message only if it keeps what matters and is really
translated: the guard every translator's output passes."""

from __future__ import annotations

import pytest

from portside.domain.grounding import kept_tokens, translation_problem, unquote
from portside.domain.translation import LanguagePair, base_language, find_pair, pair_name

ZH = "您的订单 LP-10023 已经发货了，运费是 12.50 欧元。详情见 https://shop.example/track?id=7。"
DE = (
    "Ihre Bestellung LP-10023 wurde versandt, der Versand kostet 12,50 €. "
    "Details: https://shop.example/track?id=7."
)


def test_a_faithful_translation_passes() -> None:
    assert translation_problem(ZH, DE, "de") is None


def test_links_emails_and_order_numbers_are_found_without_trailing_punctuation() -> None:
    text = "Write to help@shop.example (order #10023, LP10231) or see www.shop.example/faq."
    assert kept_tokens(text) == ["www.shop.example/faq", "help@shop.example", "#10023", "LP10231"]
    assert kept_tokens("订单LP-10023已发货") == ["LP-10023"]
    assert kept_tokens("size M, colour blue, 3 left") == []


@pytest.mark.parametrize(
    ("translation", "problem"),
    [
        ("   ", "the translation is empty"),
        (DE.replace("12,50", "15,00"), "lost the number 1250"),
        (DE.replace("LP-10023", "LP-10032"), "lost or changed LP-10023"),
        (DE.replace("?id=7", ""), "lost or changed https://shop.example/track?id=7"),
        (DE + " Heute 20% Rabatt!", "a number the message does not: 20"),
        (ZH, "not written in the target language"),
        (DE * 40, "far longer than the message"),
    ],
)
def test_a_translation_that_loses_or_invents_is_refused(translation: str, problem: str) -> None:
    found = translation_problem(ZH, translation, "de")
    assert found is not None and problem in found


def test_small_counts_spelled_out_in_the_source_may_become_digits() -> None:
    assert translation_problem("我有两个问题", "Ich habe 2 Fragen", "de") is None


def test_the_target_script_is_checked_where_it_tells() -> None:
    assert translation_problem("Wo ist meine Bestellung?", "我的订单在哪里？", "zh") is None
    assert translation_problem("Wo ist meine Bestellung?", "Wo ist meine Bestellung?", "zh")
    assert translation_problem("Wo ist meine Bestellung?", "Где мой заказ?", "ru") is None
    assert translation_problem("Где мой заказ?", "Where is my order?", "ja")
    # Nothing to tell by: the same in any language.
    assert translation_problem("OK 👍", "OK 👍", "de") is None
    assert translation_problem("LP-10023", "LP-10023", "zh") is None


def test_the_message_handed_back_is_no_translation() -> None:
    english = "Your order has shipped today."
    assert "untranslated" in (translation_problem(english, english, "de") or "")
    # A short greeting or a name may well be the same in both.
    assert translation_problem("Hallo Anna!", "Hallo Anna!", "en") is None


def test_quotes_around_a_whole_answer_are_dropped() -> None:
    assert unquote(' "Hallo!" ') == "Hallo!"
    assert unquote("「你好」") == "你好"
    assert unquote("„Hallo“") == "Hallo"
    assert unquote('Er sagte "ja"') == 'Er sagte "ja"'


def test_languages_are_compared_by_their_base_code() -> None:
    assert base_language("de-DE") == "de"
    assert base_language("zh_Hans") == "zh"
    assert base_language("PT-br") == "pt"
    assert base_language("") is None
    assert base_language("not a tag!") is None
    assert base_language(None) is None
    assert pair_name("zh", "de") == "Chinese (zh) to German (de)"


def test_a_pair_is_found_directly_or_through_a_pivot_or_any_for_an_llm() -> None:
    pairs = [LanguagePair("zh", "en"), LanguagePair("zh", "de", via="en")]
    assert find_pair(pairs, "zh", "de") == LanguagePair("zh", "de", "en")
    assert find_pair(pairs, "de", "zh") is None
    assert find_pair(None, "de", "zh") == LanguagePair("de", "zh")
