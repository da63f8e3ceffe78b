"""What a shopper wrote in an email reply, without what their mail client added.

A reply carries the shopper's new words, then usually the quoted earlier mail ("On ...
wrote:" and "> " lines, or an HTML blockquote), a signature after "-- ", and a "Sent
from my phone". Only the new words become the message in the conversation. The email we
sent opens with REPLY_ABOVE, so a reply whose client quotes it is cut there even when
the client's quote header is in a language the patterns below do not know.
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from html.parser import HTMLParser

from portside.domain.mail import REPLY_ABOVE

# The line a mail client puts above the quoted mail, in the languages shoppers write in.
# A line that ends with "<address>:" is one in any language ("2026年12月4日 Shop <a@b>:").
_QUOTE_HEADERS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^on\b.{0,300}\bwrote:$",  # English
        r"^le\b.{0,300}\ba écrit ?:$",  # French
        r"^am\b.{0,300}\bschrieb\b.{0,300}:$",  # German
        r"^el\b.{0,300}\bescribió:$",  # Spanish
        r"^em\b.{0,300}\bescreveu:$",  # Portuguese
        r"^il\b.{0,300}\bha scritto:$",  # Italian
        r"^op\b.{0,300}\bschreef\b.{0,300}:$",  # Dutch
        r"^.{0,300}\bнаписал[аи]?:$",  # Russian
        r"^.{0,300}(写道|寫道)[:：]$",  # Chinese
        r"^.{0,300}님이 작성:$",  # Korean
        r"^.{0,300}\bكتب:$",  # Arabic
        r"^.{0,300}<[^<>\s]+@[^<>\s]+>\s?[:：]$",  # "... Name <a@b>:" in any language
        r"^-{2,}\s*original message\s*-{2,}$",  # Outlook
        r"^_{20,}$",  # Outlook's rule above "From: ... Sent: ..."
    )
]
# Outlook's block of headers above the quoted mail: "From:" then "Sent:"/"Date:" soon after.
_FROM_LINE = re.compile(
    r"^\*?(from|von|de|da|от|发件人|差出人|보낸 사람)\s*\*?[:：]", re.IGNORECASE
)
_SENT_LINE = re.compile(
    r"^\*?(sent|date|gesendet|envoyé|enviado|inviato|отправлено|发送时间|送信日時|보낸 날짜)"
    r"\s*\*?[:：]",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
# Lines mobile clients add at the end of every mail.
_SENT_FROM = re.compile(
    r"^(sent from my \w+.*|get outlook for \w+.*|sent from (yahoo )?mail for \w+.*|"
    r"von meinem \w+ gesendet|envoyé de mon \w+.*|enviado desde mi \w+.*|"
    r"发自我的\w+.*|iphoneから送信)$",
    re.IGNORECASE,
)


def reply_text(message: Message) -> str:
    """The shopper's new words in an email: the text part (or the HTML one made text),
    cut before the quoted earlier mail and the signature. "" when nothing is left."""
    body = _body(message)
    if body is None:
        return ""
    text, is_html = body
    if is_html:
        text = html_to_text(text)
    return strip_quoted(text)


def strip_quoted(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        bare = line.strip()
        unquoted = bare.lstrip("> ").strip()
        if REPLY_ABOVE in unquoted or _SIGNATURE.match(line.rstrip("\n")):
            break
        if _is_quote_header(bare, lines[i + 1 : i + 5]):
            break
        if bare.startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and (not kept[-1].strip() or _SENT_FROM.match(kept[-1].strip())):
        kept.pop()
    text = "\n".join(kept).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _is_quote_header(line: str, after: list[str]) -> bool:
    if not line:
        return False
    # A header the client wrapped: "On Tue, 4 Dec 2026 at 10:00, Shop <" + "a@b> wrote:".
    candidates = [line]
    if after and after[0].strip():
        candidates.append(f"{line} {after[0].strip()}")
    if any(p.match(c) for p in _QUOTE_HEADERS for c in candidates):
        return True
    return bool(_FROM_LINE.match(line)) and any(_SENT_LINE.match(a.strip()) for a in after)


def _body(message: Message) -> tuple[str, bool] | None:
    """The text/plain part (or else text/html) that is the body, not an attachment."""
    part: Message | None = None
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
    elif message.get_content_maintype() == "text":
        part = message
    if part is None:
        return None
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        text = payload.decode("utf-8", errors="replace")
    return text, part.get_content_subtype() == "html"


class _TextOfHtml(HTMLParser):
    """The text of an HTML mail: blocks on their own lines, quotes and scripts left out."""

    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    )
    _SKIPPED = frozenset({"script", "style", "head", "title", "blockquote"})
    # Where Gmail, Yahoo, Outlook and Apple Mail put the quoted earlier mail.
    _QUOTE_MARKS = ("gmail_quote", "yahoo_quoted", "divrplyfwdmsg", "appendonsend", "moz-cite")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # The skipped element we are in, and how deep (HTML mail often leaves tags open,
        # so only this tag is counted).
        self._skipping: str | None = None
        self._depth = 0
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if self._skipping is not None:
            self._depth += tag == self._skipping
            return
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id")).lower()
        if any(mark in marks for mark in self._QUOTE_MARKS):
            self._done = True  # everything from here on is the quoted mail
        elif tag in self._SKIPPED:
            self._skipping, self._depth = tag, 1
            self.parts.append("\n")
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self._SKIPPED:  # <br/> is one line break, not two
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping is not None:
            if tag == self._skipping:
                self._depth -= 1
                if not self._depth:
                    self._skipping = None
                    self.parts.append("\n")
        elif tag in self._BLOCKS and not self._done:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping is None and not self._done:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
