"""Canned replies: the variables a reply may hold, checking a template, filling it in.

A template is text with variables in braces: `Hi {first_name}, order {order.number} is
on its way: {order.tracking_url}`. Braces only ever surround a variable, so a stray `{`
or `}` is a mistake the agent who wrote it is told about, with where it is, when the
reply is saved, never when a shopper is waiting. Filling in never drops a variable that
has no value: it stays in the text as written (the gap the console asks the agent to
fill) and is listed in `missing`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from portside.errors import InvalidRequest

# Every variable, with what it is filled in with (shown to the people writing replies).
VARIABLES: dict[str, str] = {
    "first_name": "the shopper's first name",
    "name": "the shopper's full name",
    "email": "the shopper's email address",
    "order.number": "the number of the order most recently named in the conversation",
    "order.status": "that order's status, in the shopper's language",
    "order.tracking_url": "the carrier's tracking page for that order",
    "agent.name": "your name",
    "store.name": "the store's name",
}

_NAME = re.compile(r"[a-z_]+(?:\.[a-z_]+)?")


@dataclass(frozen=True)
class Variable:
    """One `{name}` of a template, and where it starts in the text."""

    name: str
    at: int


@dataclass(frozen=True)
class Rendered:
    """A template filled in: `text` with every variable that had no value left as
    `{name}`, and those names, in order of first appearance."""

    text: str
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def parse_template(text: str, field: str = "text") -> list[str | Variable]:
    """The template as literal text and variables in order; raises InvalidRequest that
    names `field` and says what is wrong and where (counted from 1, as people count)."""
    parts: list[str | Variable] = []
    start = 0
    while start < len(text):
        opening = text.find("{", start)
        closing = text.find("}", start)
        if closing != -1 and (opening == -1 or closing < opening):
            raise _invalid(
                field,
                f"The '}}' at character {closing + 1} closes no variable; braces only "
                "surround variables such as {first_name}.",
            )
        if opening == -1:
            parts.append(text[start:])
            break
        if opening > start:
            parts.append(text[start:opening])
        end = text.find("}", opening + 1)
        nested = text.find("{", opening + 1)
        if end == -1 or (nested != -1 and nested < end):
            raise _invalid(
                field,
                f"The '{{' at character {opening + 1} is not closed; write a variable as "
                "{first_name}, with nothing else in the braces.",
            )
        name = text[opening + 1 : end]
        if name not in VARIABLES:
            shown = name if _NAME.fullmatch(name) else repr(name)
            raise _invalid(
                field,
                f"{{{shown}}} at character {opening + 1} is not a variable; the variables "
                f"are {', '.join('{' + known + '}' for known in VARIABLES)}.",
            )
        parts.append(Variable(name, opening))
        start = end + 1
    return parts


def check_template(text: str, field: str = "text") -> list[str]:
    """The variables a template uses, in order of first use; raises as parse_template."""
    names = [part.name for part in parse_template(text, field) if isinstance(part, Variable)]
    return list(dict.fromkeys(names))


def render(template: str, values: Mapping[str, str | None]) -> Rendered:
    """The template with each variable's value; one without a value (None or blank)
    stays as `{name}` and is listed in `missing`. The template must be valid."""
    out: list[str] = []
    missing: list[str] = []
    for part in parse_template(template):
        if isinstance(part, str):
            out.append(part)
            continue
        value = values.get(part.name)
        if value is None or not value.strip():
            out.append("{" + part.name + "}")
            if part.name not in missing:
                missing.append(part.name)
        else:
            out.append(value.strip())
    return Rendered("".join(out), tuple(missing))


def first_name(name: str | None) -> str | None:
    """The first word of a name ("Ana García" -> "Ana"); a name written without spaces
    (李伟, as Chinese names are) is kept whole."""
    if not name or not name.strip():
        return None
    return name.split()[0]


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, details=[{"field": field, "problem": message}])
