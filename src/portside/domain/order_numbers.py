"""Order numbers in shoppers' messages, and which of a store's orders they name.

A store's numbers are whatever its shop gives them: the built-in store's "LP10231",
Shopify's "#1001", another shop's "A-1001". Shoppers write them their own way: "#1001",
"1001", "order 1001", "订单号1001", "заказ №1001", "lp-10231". Reading a message gives
`OrderRef`s, the numbers it may name; which of the store's orders one is, if any, is
settled against the store's own numbers (`spellings`, `pick_order`): "#10231" is the
order the store numbers "LP10231", and "1001" is "#1001".

So that a postcode, a phone number, a year or a quantity is not taken for an order,
a number counts:

- always (`sure`): "#" and 3 to 12 digits; 3 to 12 digits after an order word and a
  number word ("order number 1001", "order #1001", "订单号1001", "注文番号は1001",
  "주문번호 1001", "Bestell-Nr. 1001", "commande n° 1001", "pedido nº 1001",
  "заказ №1001", "رقم الطلب 1001"); when an order number is expected (`bare`), right
  after an order word ("order 1001") and 5 to 8 digits alone ("10231"); in the answer
  to "what is your order number?" (`asked`), any number after an order word ("my
  order is 1001") and 4 to 12 digits alone;
- only if the store has that order: letters and digits ("LP10231", "A-1001"), and
  sure when the store's numbers start with those letters; otherwise, a number after
  an order word ("order 2000": a quantity; "the postcode of the order is 4000"); 4 or
  9 to 12 digits alone when one is expected.

A bare number next to other digits ("+34 612 345 678", "2026-12-04") is never one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

MIN_DIGITS = 3
MAX_DIGITS = 12
# Bare digits that are an order number when one is expected; 4 or 9 to 12 only if the
# store has the order (a year, a phone number).
SURE_BARE = range(5, 9)
# How many different forms of a store's numbers are tried at most.
MAX_SHAPES = 8

# Words for an order, as the ten languages write them before its number. Words of
# scripts without spaces (and Arabic, which joins its article on) match anywhere.
_ORDER_WORDS = (
    r"\border(?:s|'s)?\b",
    r"\bpedidos?\b",
    r"\bencomendas?\b",
    r"\bcompras?\b",
    r"\b[oó]rden(?:es)?\b",
    r"\bbestell[^\W\d_]*",
    r"\bauftrag[^\W\d_]*",
    r"\bcommandes?\b",
    r"\bзаказ[^\W\d_]*",
    r"(?:ال)?طلب[^\W\d_]*",
    r"(?:ال)?[اأ]وردر[^\W\d_]*",
    "订单",
    "訂單",
    "注文",
    "オーダー",
    "주문",
)
# Words that say "number" ("nº" and "№" read as "no"), and words that may stand
# between an order word and its number ("is", "是", "は", ...).
_NUMBER_WORDS = r"number|num|nos?|nro|numéro|numero|número|núm|id|ref|номер|رقم"
_COMPOUND_NUMBER = r"nummer|nr"  # joined on in German: "Bestellnummer", "Bestellnr"
_LINK_WORDS = r"is|was|es|era|ist|war|est|é|foi|the|el|la|le|это|هو|هي"
# One letter is a word only before a space or a mark ("n° 1001", "é o 1001"): "A-1001"
# is a number with its letter.
_LETTER_WORDS = r"(?:n|o|a|s)(?=[\s.°:#])"
_JOINED_WORDS = r"号码|號碼|编号|編號|番号|号|號|번호|是|为|為|は|が|는|은|이|가|の|的"
_GLUE = r"[\s:#.\-=,'’\"«»“”()（）°]*"
_ONLY_GLUE = re.compile(_GLUE)
# A word that stands alone: not joined to a letter, nor to letters by a hyphen.
_ALONE = r"(?![^\W\d_]|-[^\W\d_])"
_LINK = (
    rf"(?:(?:{_NUMBER_WORDS}|{_COMPOUND_NUMBER}|{_LINK_WORDS}){_ALONE}"
    rf"|{_LETTER_WORDS}|{_JOINED_WORDS})"
)
# "número de pedido", "numéro de ma commande", "номер заказа", "رقم الطلب".
_NUMBER_BEFORE = (
    rf"(?:\b(?:{_NUMBER_WORDS})\s+(?:(?:de|do|da|du|of|de la)\s+)?"
    r"(?:(?:the|my|mi|su|ma|mon|meu|minha|seu|sua|your|votre|mein|meine)\s+)?)"
)
_SAYS_NUMBER = re.compile(
    rf"(?:(?<![^\W\d_])(?:{_NUMBER_WORDS}|n)|{_COMPOUND_NUMBER})(?![^\W\d_])"
    r"|[#号號]|番号|번호",
    re.IGNORECASE,
)
# After a number: no letter or digit of its own, not a date, a time or a decimal, nor
# money or a count ("1000円", "3000원", "200 €", "50%", "2件").
_UNITS = r"円元块塊원개個个件€$¥£₩%"
_END = rf"(?![0-9A-Za-z_@]|[.,/:-]\d|\s?[{_UNITS}])"
_DIGITS = rf"\d{{{MIN_DIGITS},{MAX_DIGITS}}}"
_WORD_MARKED = re.compile(
    rf"(?P<words>{_NUMBER_BEFORE}?(?:{'|'.join(_ORDER_WORDS)}))(?P<link>(?:{_GLUE}{_LINK})*{_GLUE})"
    rf"(?P<head>[a-z]{{1,4}}-?)?(?P<digits>{_DIGITS}){_END}",
    re.IGNORECASE,
)
_HASH = re.compile(rf"(?<![0-9A-Za-z_&])#\s?(?P<digits>{_DIGITS}){_END}")
_LETTERS = re.compile(
    rf"(?<![0-9A-Za-z_@.#/-])(?P<letters>[A-Za-z]{{1,4}})(?P<sep>-|\s)?(?P<digits>{_DIGITS}){_END}"
)
_BARE = re.compile(
    rf"(?<![0-9A-Za-z_@.#/+{_UNITS}-])(?<!\d )(?P<digits>\d{{4,{MAX_DIGITS}}}){_END}(?! \d)"
)
# A stored number with one run of digits: what comes before it and after it.
_SHAPE = re.compile(r"^(\D*)(\d+)(\D*)$")


@dataclass(frozen=True)
class OrderRef:
    """A number a message (or a flow) names as an order's. `text` as it is said back
    to the shopper when the store has no such order ("#1001", "LP10231", "1001");
    `digits` its run of digits and `letters` the letters before them, upper-case
    ("" for "#1001"); `sure` when it is an order number whether or not the store has
    it (else it counts only if the store has it)."""

    text: str
    digits: str = ""
    letters: str = ""
    sure: bool = True


def find_order_refs(text: str, *, bare: bool = True, asked: bool = False) -> list[OrderRef]:
    """The numbers a message may name as orders', in the order written. With `bare`
    (an order number is expected), digits alone count too, and a number after an
    order word is sure without a number word; with `asked` (the message answers "what
    is your order number?"), digits alone are sure however many."""
    normal = _normal(text)
    found: dict[tuple[int, int], tuple[int, OrderRef]] = {}

    def keep(span: tuple[int, int], rank: int, ref: OrderRef) -> None:
        # One reading of a number: the best-marked; sure if any reading is.
        before = found.get(span)
        if before is not None:
            sure = ref.sure or before[1].sure
            if before[0] >= rank:
                ref = before[1]
            ref = OrderRef(ref.text, ref.digits, ref.letters, sure)
            rank = max(rank, before[0])
        found[span] = (rank, ref)

    for match in _HASH.finditer(normal):
        digits = match.group("digits")
        keep(match.span("digits"), 3, OrderRef(f"#{digits}", digits))
    for match in _WORD_MARKED.finditer(normal):
        digits, head = match.group("digits"), (match.group("head") or "").upper()
        link = match.group("link")
        says_number = _SAYS_NUMBER.search(match.group("words") + link) is not None
        # "order 1001" when an order number is expected; "the postcode of the order is
        # 4000" is not sure of it, unless it answers "what is your order number?".
        sure = says_number or asked or (bare and _ONLY_GLUE.fullmatch(link) is not None)
        ref = OrderRef(f"{head}{digits}", digits, _letters(head), sure)
        keep(match.span("digits"), 2, ref)
    for match in _LETTERS.finditer(normal):
        letters, sep = match.group("letters"), match.group("sep")
        if sep and sep != "-" and not letters.isupper():
            continue  # "is 1001", "es 28013": words before a number, not its letters
        digits = match.group("digits")
        head = letters.upper() + ("-" if sep == "-" else "")
        keep(match.span("digits"), 1, OrderRef(f"{head}{digits}", digits, letters.upper(), False))
    if bare:
        for match in _BARE.finditer(normal):
            digits = match.group("digits")
            if match.span("digits") not in found:
                sure = asked or len(digits) in SURE_BARE
                keep(match.span("digits"), 0, OrderRef(digits, digits, "", sure))
    return [ref for _, (_, ref) in sorted(found.items())]


def find_order_numbers(text: str) -> list[str]:
    """Every number a message marks as an order's ("#1001", "order no. 1001",
    "LP10231"), in order: those that are sure, and letters and digits."""
    return list(dict.fromkeys(ref.text for ref in find_order_refs(text, bare=False)))


def number_shapes(numbers: Iterable[str]) -> list[tuple[str, str]]:
    """How a store writes its numbers around their digits, most used first:
    ("LP", "") for "LP10231", ("#", "") for "#1001", ("", "-EU") for "1001-EU"."""
    shapes = Counter(
        (shape.group(1), shape.group(3)) for shape in map(_SHAPE.match, numbers) if shape
    )
    return [shape for shape, _ in shapes.most_common(MAX_SHAPES)]


def spellings(ref: OrderRef, shapes: Iterable[tuple[str, str]]) -> list[str]:
    """The numbers the store may have for `ref`, the likeliest first: as written, in
    each of the store's shapes (only those with the same letters, when it has
    letters), then "#" and the digits alone."""
    out = [ref.text]
    if ref.digits:
        if ref.letters:
            out += [f"{ref.letters}{ref.digits}", f"{ref.letters}-{ref.digits}"]
        for head, tail in shapes:
            if not ref.letters or _letters(head) == ref.letters:
                out.append(f"{head}{ref.digits}{tail}")
        if not ref.letters:
            out += [f"#{ref.digits}", ref.digits]
    return list(dict.fromkeys(out))


def pick_order(
    refs: Iterable[OrderRef], shapes: list[tuple[str, str]], numbers: Collection[str]
) -> tuple[str | None, bool]:
    """The store's number of the first ref it has (of `numbers`, the store's numbers
    among all the refs' spellings) and True; else the first ref that is sure (or has
    the letters the store's numbers start with) as written, and False; else (None,
    False): the message names no order."""
    refs = list(refs)
    for ref in refs:
        for spelled in spellings(ref, shapes):
            if spelled in numbers:
                return spelled, True
    letters = {_letters(head) for head, _ in shapes} - {""}
    for ref in refs:
        if ref.sure or ref.letters in letters:
            return ref.text, False
    return None, False


def _letters(head: str) -> str:
    return re.sub(r"[^A-Za-z]", "", head).upper()


def _normal(text: str) -> str:
    """Full-width forms and "№" folded (NFKC: "＃１００１" -> "#1001", "№" -> "No"),
    and digits of every script written as ASCII digits ("١٠٠١" -> "1001")."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.digit(char, 0)) if char.isdigit() and not char.isascii() else char
        for char in folded
    )
