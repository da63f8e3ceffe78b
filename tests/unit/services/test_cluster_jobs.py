"""The arithmetic of the cluster's leased jobs: when an email counts as stalled, and a
stored turn read back as the agent hears it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from portside.config import Limits, Settings
from portside.services.email_resend import stalled_after
from portside.services.turn_recovery import turn_message


def test_an_email_is_stalled_only_after_the_longest_wait_between_tries_and_a_margin() -> None:
    # Waits of 10, 40 and 160 s between four tries: the last is the longest.
    assert stalled_after(Limits()) == timedelta(seconds=160 + 120)
    two = Limits(email_retry_s=5.0, email_attempts=2, email_stalled_s=30.0)
    assert stalled_after(two) == timedelta(seconds=5 + 30)
    one = Limits(email_attempts=1, email_stalled_s=30.0)
    assert stalled_after(one) > timedelta(seconds=30)


def test_the_recovery_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"PORTSIDE_TURN_RECOVERY_S": "2.5", "PORTSIDE_EMAIL_STALLED_S": "60"}
    )
    assert settings.limits.turn_recovery_s == 2.5
    assert settings.limits.email_stalled_s == 60.0


def test_a_stored_turn_reads_back_as_it_was_announced() -> None:
    row = SimpleNamespace(
        id=41,
        store_id=3,
        conversation_id=7,
        visitor_id=9,
        seq=5,
        data={"text": "hi", "client_id": "c-1", "attachments": [{"id": 2}]},
    )
    assert turn_message(row) == {
        "store_id": 3,
        "conversation_id": 7,
        "visitor_id": 9,
        "event_id": 41,
        "seq": 5,
        "text": "hi",
        "attachments": [{"id": 2}],
    }
