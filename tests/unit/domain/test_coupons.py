"""Coupon codes, patterns and CSV imports, without a database."""

from __future__ import annotations

import itertools

import pytest

from portside.domain.coupons import (
    ALPHABET,
    check_pattern,
    check_room,
    normal_code,
    parse_code_csv,
)
from portside.errors import InvalidRequest


def test_the_alphabet_has_no_characters_people_misread() -> None:
    assert not set("0O1I") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 32


def test_a_pattern_makes_codes_of_its_shape() -> None:
    pattern = check_pattern(" welcome-{xxxxxx}_{99} ")
    assert pattern.text == "WELCOME-{XXXXXX}_{99}"
    assert pattern.space == 32**6 * 100
    assert pattern.length == len("WELCOME-ABCDEF_12")
    code = pattern.make()
    assert code.startswith("WELCOME-") and code[14] == "_"
    assert set(code[8:14]) <= set(ALPHABET) and code[15:].isdigit()
    assert normal_code(code) == code


def test_every_number_below_the_space_is_a_different_code() -> None:
    pattern = check_pattern("A{X}{99}")
    numbers = itertools.count()
    codes = {pattern.make(lambda _space: next(numbers)) for _ in range(pattern.space)}
    assert len(codes) == pattern.space == 3_200
    assert min(codes) == "A200" and "AZ99" in codes


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "WELCOME",
        "W-{XY}",
        "W-{}",
        "W-{XX",
        "W-XX}",
        "W {XX}",
        "ñ-{XX}",
        "{X}",
        "A" * 60 + "{XXXXX}",
        7,
    ],
)
def test_a_pattern_that_cannot_make_codes_is_refused(pattern: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_pattern(pattern)
    assert refused.value.details == [{"field": "pattern", "problem": refused.value.message}]


def test_a_pattern_needs_a_hundred_times_more_codes_than_the_pool_holds() -> None:
    pattern = check_pattern("S-{999}")
    check_room(pattern, existing=0, count=10)
    check_room(pattern, existing=4, count=6)
    with pytest.raises(InvalidRequest, match="1,000 different codes: too few for 11 codes"):
        check_room(pattern, existing=5, count=6)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        (" save-10 ", "SAVE-10"),
        ("abc", "ABC"),
        ("A_B-9", "A_B-9"),
        ("ab", None),
        ("A B C", None),
        ("x" * 65, None),
        ("ÄBC", None),
        (None, None),
        (12345, None),
    ],
)
def test_a_code_is_trimmed_and_upper_case(typed: object, code: str | None) -> None:
    assert normal_code(typed) == code


def test_a_csv_file_gives_its_codes_and_every_wrong_line() -> None:
    text = '\ufeffCode\r\nspring-1\n\n "SPRING-2" \nspring-1\nx\nA-1,B-2\nSPRING-3,\n'
    codes, problems = parse_code_csv(text)
    assert [(line.line, line.code) for line in codes] == [
        (2, "SPRING-1"),
        (4, "SPRING-2"),
        (8, "SPRING-3"),
    ]
    assert [problem.to_dict() for problem in problems] == [
        {"line": 5, "problem": "SPRING-1 is already on line 2."},
        {
            "line": 6,
            "problem": "'x' is not a code: a code has 3 to 64 letters A-Z, digits, - and _.",
        },
        {"line": 7, "problem": "A line has one code only."},
    ]


def test_code_is_a_header_only_on_the_first_line() -> None:
    codes, problems = parse_code_csv("ABC-1\ncode\n")
    assert [line.code for line in codes] == ["ABC-1", "CODE"]
    assert problems == []
    assert parse_code_csv("") == ([], [])
