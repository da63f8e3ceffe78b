"""Coupon codes, pure: how a code is written, patterns that generate codes, CSV imports.

A code is what a shopper types at checkout, so it is kept unambiguous: trimmed, upper
case, 3 to 64 characters of A-Z, 0-9, "-" and "_". Generated codes draw their random
characters from an alphabet without 0/O and 1/I, which people misread.
"""

from __future__ import annotations

import csv
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from portside.errors import field_error

CODE = re.compile(r"[A-Z0-9_-]{3,64}")
# Letters and digits nobody confuses: no 0/O, no 1/I.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
DIGITS = "0123456789"
# A pattern must make at least this many times more codes than the pool will hold, so
# that a new random code collides with an existing one at most 1 time in 100 and no
# shopper can find a valid code by guessing a few.
SPACE_FACTOR = 100
_PART = re.compile(r"\{([^{}]*)\}|([^{}]+)|([{}])")
_LITERAL = re.compile(r"[A-Z0-9_-]+")
_HEADER = "code"


@dataclass(frozen=True)
class IssuedCoupon:
    """A code handed to one visitor, with what it gives (for the proactive message)."""

    code_id: int
    code: str
    pool_id: int
    # What it gives, by language code ("10% off your first order").
    description: dict[str, str]
    expires_at: datetime | None


@dataclass(frozen=True)
class Pattern:
    """A checked pattern: literal text and random slots, in order."""

    text: str
    # (alphabet, length) for a random slot, (literal, 0) for fixed text.
    parts: tuple[tuple[str, int], ...]

    @property
    def space(self) -> int:
        """How many different codes it makes."""
        total = 1
        for alphabet, length in self.parts:
            if length:
                total *= len(alphabet) ** length
        return total

    @property
    def length(self) -> int:
        return sum(length or len(text) for text, length in self.parts)

    def make(self, randbelow: Callable[[int], int] = secrets.randbelow) -> str:
        """A random code: one number below `space`, written in the slots' alphabets
        (one draw from the system's randomness per code, not one per character)."""
        number = randbelow(self.space)
        written: list[str] = []
        for text, length in self.parts:
            if not length:
                written.append(text)
                continue
            for _ in range(length):
                number, index = divmod(number, len(text))
                written.append(text[index])
        return "".join(written)


def check_pattern(text: object) -> Pattern:
    """A pattern like "WELCOME-{XXXXXX}": {X...} random letters and digits of the
    unambiguous alphabet, {9...} random digits, anything else kept as written."""
    if not isinstance(text, str) or not text.strip():
        raise _pattern_error("A pattern is text like WELCOME-{XXXXXX}.")
    written = text.strip().upper()
    parts: list[tuple[str, int]] = []
    for slot, literal, stray in (m.groups() for m in _PART.finditer(written)):
        if stray is not None:
            raise _pattern_error(f"The pattern {written} has a {stray} out of place.")
        if literal is not None:
            if not _LITERAL.fullmatch(literal):
                raise _pattern_error(
                    f"Outside braces a pattern can have only A-Z, 0-9, - and _, not {literal!r}."
                )
            parts.append((literal, 0))
        elif slot and set(slot) == {"X"}:
            parts.append((ALPHABET, len(slot)))
        elif slot and set(slot) == {"9"}:
            parts.append((DIGITS, len(slot)))
        else:
            raise _pattern_error(
                f"{{{slot}}} is not a slot: write {{XXXX}} for random letters and digits "
                "or {9999} for random digits."
            )
    pattern = Pattern(written, tuple(parts))
    if not any(length for _, length in parts):
        raise _pattern_error(f"The pattern {written} has no random part, like {{XXXXXX}}.")
    if not 3 <= pattern.length <= 64:
        raise _pattern_error(
            f"The pattern {written} makes codes of {pattern.length} characters; a code has 3 to 64."
        )
    return pattern


def check_room(pattern: Pattern, *, existing: int, count: int) -> None:
    """Refuse to generate `count` more codes (the pool has `existing`) from a pattern
    that does not make enough different codes for them."""
    needed = (existing + count) * SPACE_FACTOR
    if pattern.space < needed:
        raise field_error(
            "count",
            f"The pattern {pattern.text} makes {pattern.space:,} different codes: too few for "
            f"{existing + count:,} codes in the pool (it must make at least {SPACE_FACTOR} "
            "times as many). Add random characters to the pattern, like {XXXXXX}.",
        )


def normal_code(text: object) -> str | None:
    """The code as stored (trimmed, upper case), or None if it cannot be a code."""
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    return code if CODE.fullmatch(code) else None


def code_problem(text: str) -> str:
    return f"{text.strip()[:70]!r} is not a code: a code has 3 to 64 letters A-Z, digits, - and _."


@dataclass(frozen=True)
class CodeLine:
    line: int
    code: str


@dataclass(frozen=True)
class LineProblem:
    line: int
    problem: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "problem": self.problem}


def parse_code_csv(text: str) -> tuple[list[CodeLine], list[LineProblem]]:
    """The codes of a CSV file, one a line, with what is wrong on which line (numbered
    from 1). An optional first line "code" is a header; blank lines are skipped; a code
    twice in the file is a problem on its second line."""
    codes: list[CodeLine] = []
    problems: list[LineProblem] = []
    first_seen: dict[str, int] = {}
    header_allowed = True
    for number, row in enumerate(_rows(text.removeprefix("\ufeff").splitlines()), start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if not cells:
            continue
        if header_allowed and len(cells) == 1 and cells[0].lower() == _HEADER:
            header_allowed = False
            continue
        header_allowed = False
        if len(cells) > 1:
            problems.append(LineProblem(number, "A line has one code only."))
            continue
        code = normal_code(cells[0])
        if code is None:
            problems.append(LineProblem(number, code_problem(cells[0])))
        elif code in first_seen:
            problems.append(LineProblem(number, f"{code} is already on line {first_seen[code]}."))
        else:
            first_seen[code] = number
            codes.append(CodeLine(number, code))
    return codes, problems


def _rows(lines: Iterable[str]) -> Iterable[list[str]]:
    # One csv reader per line: a stray quote then spoils its own line, not the rest.
    for line in lines:
        try:
            yield next(csv.reader([line.strip()]), [])
        except csv.Error:
            yield [line]


def _pattern_error(message: str) -> Exception:
    return field_error("pattern", message)
