"""The shopper's own words in an email reply, without quotes and signatures."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from portside.domain.mail import REPLY_ABOVE
from portside.domain.mail_text import html_to_text, reply_text, strip_quoted


@pytest.mark.parametrize(
    ("header"),
    [
        "On Thu, Dec 4, 2026 at 10:00 AM Lotus & Pine <reply+1-2-abc@r.example> wrote:",
        "Le jeu. 4 déc. 2026 à 10:00, Lotus & Pine <help@lotus.example> a écrit :",
        "Am Do., 4. Dez. 2026 um 10:00 Uhr schrieb Lotus & Pine <help@lotus.example>:",
        "El jue, 4 dic 2026 a las 10:00, Lotus & Pine (<help@lotus.example>) escribió:",
        "Em qui., 4 de dez. de 2026 às 10:00, Lotus & Pine <help@lotus.example> escreveu:",
        "чт, 4 дек. 2026 г. в 10:00, Lotus & Pine <help@lotus.example>: написал:",
        "Lotus & Pine <help@lotus.example> 于2026年12月4日周四 10:00写道：",
        "2026年12月4日(木) 10:00 Lotus & Pine <help@lotus.example>:",
        "2026년 12월 4일 (목) 오전 10:00, Lotus & Pine <help@lotus.example>님이 작성:",
        "-----Original Message-----",
    ],
)
def test_the_quoted_mail_is_cut_at_its_header_in_many_languages(header: str) -> None:
    text = f"Yes, the blue one please.\n\n{header}\n> It ships tomorrow.\n> Mei"
    assert strip_quoted(text) == "Yes, the blue one please."


def test_a_header_wrapped_over_two_lines_is_still_found() -> None:
    text = (
        "Thanks!\n\nOn Thu, Dec 4, 2026 at 10:00 AM Lotus & Pine <\n"
        "reply+1-2-abc@r.example> wrote:\n\n> earlier"
    )
    assert strip_quoted(text) == "Thanks!"


def test_quoted_lines_signatures_and_phone_footers_go() -> None:
    text = (
        "> What size?\nM, please.\n> And the colour?\nBlue.\n\n"
        "Sent from my iPhone\n\n-- \nJo Smith\n+1 555 0100"
    )
    assert strip_quoted(text) == "M, please.\nBlue."


def test_our_own_marker_cuts_a_quote_in_any_language() -> None:
    text = f"D'accord, merci.\n\nQuelque chose d'inhabituel:\n> {REPLY_ABOVE}\n> It ships."
    assert strip_quoted(text) == "D'accord, merci.\n\nQuelque chose d'inhabituel:"


def test_an_outlook_header_block_is_a_quote() -> None:
    text = (
        "Please cancel it.\n\n________________________________\n"
        "From: Lotus & Pine <help@lotus.example>\nSent: Thursday, December 4, 2026 10:00\n"
        "To: Jo\nSubject: Your conversation\n\nIt ships tomorrow."
    )
    assert strip_quoted(text) == "Please cancel it."
    no_rule = "Please cancel it.\n\nFrom: Lotus\nSent: today\nTo: Jo\n\nIt ships."
    assert strip_quoted(no_rule) == "Please cancel it."


def test_a_line_starting_with_from_alone_is_the_shoppers() -> None:
    text = "From: my office I cannot check.\nI will look tonight."
    assert strip_quoted(text) == text


def test_html_becomes_text_without_its_quote_scripts_or_markup() -> None:
    markup = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<div>Yes &amp; thanks<br/>for the <b>help</b></div><p>Jo</p>"
        '<div class="gmail_quote">On Thu ... wrote:<blockquote>It ships.</blockquote></div>'
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(markup) == "Yes & thanks\nfor the help\n\nJo"
    assert html_to_text("<p>a<blockquote><p>quoted<p>still</blockquote>b</p>") == "a\n\nb"


def _parse(raw: str) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw.encode())
    assert isinstance(message, EmailMessage)
    return message


def test_the_plain_part_is_preferred_and_attachments_are_not_the_body() -> None:
    message = EmailMessage()
    message["From"] = "jo@mail.example"
    message.set_content("Plain words.\n\n> quoted")
    message.add_alternative("<p>HTML words.</p>", subtype="html")
    message.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="a.png")
    assert reply_text(_parse(message.as_string())) == "Plain words."


def test_an_html_only_mail_and_its_charset_are_read() -> None:
    raw = (
        b"From: jo@mail.example\nTo: x@y.example\nMIME-Version: 1.0\n"
        b'Content-Type: text/html; charset="iso-8859-1"\nContent-Transfer-Encoding: 8bit\n\n'
    ) + "<p>Très bien, merci</p><blockquote>old</blockquote>".encode("iso-8859-1")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert reply_text(message) == "Très bien, merci"


def test_a_mail_with_only_a_quote_has_no_text() -> None:
    raw = "From: jo@mail.example\nTo: x@y.example\n\nOn Thu, Jo wrote:\n> hello\n"
    assert reply_text(_parse(raw)) == ""
