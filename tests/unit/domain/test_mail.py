"""Reply addresses, Message-IDs and the email an agent's reply becomes."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

from portside.domain.mail import (
    REPLY_ABOVE,
    OutgoingReply,
    build_reply,
    client_id_for,
    find_reply_token,
    message_id_for,
    message_ids_in,
    reply_address,
    reply_token,
)

KEY = b"k" * 32


def test_a_reply_address_names_its_conversation_and_survives_a_lowercased_local_part() -> None:
    address = reply_address(KEY, 7, 1234, "reply.shop.example")
    assert address.startswith("reply+7-1234-")
    assert len(address.split("@")[0]) <= 64  # the most a local part may have
    for header in (f"Shop <{address}>", address.upper(), f"a@b.example, {address}"):
        assert find_reply_token(KEY, 7, [header]).conversation_id == 1234


def test_a_forged_or_foreign_token_is_refused_not_ignored() -> None:
    token = reply_token(KEY, 7, 1234)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert find_reply_token(KEY, 7, [f"reply+{forged}@r.example"]).refused
    # Another conversation's number with this one's signature:
    other = token.replace("-1234-", "-1235-")
    assert find_reply_token(KEY, 7, [f"reply+{other}@r.example"]).refused
    # Signed for another store, or by another server's key:
    assert find_reply_token(KEY, 8, [f"reply+{token}@r.example"]).refused
    assert find_reply_token(b"x" * 32, 7, [f"reply+{token}@r.example"]).refused
    # Not a token at all:
    assert find_reply_token(KEY, 7, ["reply+hello@r.example"]).refused
    nothing = find_reply_token(KEY, 7, ["shopper@mail.example"])
    assert nothing.conversation_id is None
    assert not nothing.refused


def test_a_valid_token_wins_over_a_damaged_one_in_another_header() -> None:
    good = reply_address(KEY, 7, 99, "r.example")
    found = find_reply_token(KEY, 7, ["reply+junk@r.example", good])
    assert found.conversation_id == 99


def test_message_ids_are_derived_from_the_event_and_signed() -> None:
    first = message_id_for(KEY, 41, "r.example")
    assert first == message_id_for(KEY, 41, "r.example")
    assert first.startswith("<portside.41.")
    assert first.endswith("@r.example>")
    assert first != message_id_for(b"x" * 32, 41, "r.example")
    assert message_ids_in([f"{first}\n <b@c> {first}", "<d@e>"]) == [first, "<b@c>", "<d@e>"]


def test_one_message_id_makes_one_valid_client_id() -> None:
    client_id = client_id_for("<CAF=abc+def@mail.gmail.com>")
    assert client_id == client_id_for("<CAF=abc+def@mail.gmail.com>")
    assert client_id != client_id_for("<other@mail.gmail.com>")
    assert len(client_id) <= 64
    assert client_id.replace(":", "").isalnum()


def _reply(**changes: object) -> OutgoingReply:
    values: dict[str, object] = {
        "store_name": "Lotus & Pine",
        "from_address": "help@lotus.example",
        "from_name": "Lotus & Pine",
        "to_address": "jo@mail.example",
        "to_name": "Jo",
        "reply_to": reply_address(KEY, 1, 2, "reply.lotus.example"),
        "message_id": message_id_for(KEY, 30, "reply.lotus.example"),
        "earlier": [],
        "agent_name": "Mei",
        "text": "It ships <tomorrow> & arrives\nin 3 days.\n\nAnything else?",
        "sent_at": datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
    }
    values.update(changes)
    return OutgoingReply(**values)  # type: ignore[arg-type]


def test_the_email_names_the_store_threads_and_escapes_the_html() -> None:
    earlier = ["<portside.10.a@reply.lotus.example>", "<shopper-1@mail.example>"]
    sent = build_reply(_reply(earlier=earlier))
    # As the shopper's mail server would read it off the wire.
    message = BytesParser(policy=policy.default).parsebytes(sent.as_bytes())
    assert "Lotus & Pine" in message["Subject"]
    assert message["Message-ID"] == _reply().message_id
    assert message["In-Reply-To"] == "<shopper-1@mail.example>"
    assert message["References"].split() == earlier
    assert message["Reply-To"].addresses[0].addr_spec.startswith("reply+1-2-")
    assert message["To"].addresses[0].addr_spec == "jo@mail.example"
    plain = message.get_body(("plain",)).get_content()
    assert plain.startswith(REPLY_ABOVE)
    assert "It ships <tomorrow> & arrives\nin 3 days." in plain
    assert "— Mei, Lotus & Pine" in plain
    markup = message.get_body(("html",)).get_content()
    assert "It ships &lt;tomorrow&gt; &amp; arrives<br>in 3 days.</p><p>Anything else?" in markup
    assert "<tomorrow>" not in markup


def test_the_first_email_of_a_conversation_answers_nothing() -> None:
    message = build_reply(_reply())
    assert message["In-Reply-To"] is None
    assert message["References"] is None


def test_names_cannot_add_headers() -> None:
    message = build_reply(_reply(to_name="Jo\r\nBcc: all@evil.example", store_name="Shop\nX: y"))
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["X"] is None
    assert parsed["To"].addresses[0].display_name == "Jo Bcc: all@evil.example"
