"""What the bot says outside business hours: when a person is back, in the shopper's
language and local time, and how to go on by email."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portside.agent.off_hours import Shopper, find_email, off_hours_note, when_back
from portside.agent.replies import default_replies

REPLIES = default_replies()
# Between a time and AM/PM, CLDR puts a narrow no-break space.
NNBSP = "\u202f"
# Friday 6 March 2026, 23:00 UTC: 18:00 in New York, midnight in Madrid, 07:00 on
# Saturday in Shanghai.
NOW = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)
# Monday 9 March 2026, 9:00 in New York (EDT since Sunday).
MONDAY_NINE_NEW_YORK = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lang", "tag", "zone", "expected"),
    [
        ("en", "en-US", "America/New_York", f"Monday at 9:00{NNBSP}AM"),
        ("en", "en-GB", "Europe/London", "Monday at 13:00"),
        ("es", "es-ES", "Europe/Madrid", "el lunes a las 14:00"),
        ("es", "es-MX", "America/Mexico_City", f"el lunes a las 7:00{NNBSP}a.m."),
        ("de", "de-DE", "Europe/Berlin", "am Montag um 14:00"),
        ("fr", "fr-FR", "Europe/Paris", "lundi à 14:00"),
        ("pt", "pt-BR", "America/Sao_Paulo", "segunda-feira às 10:00"),
        ("zh", "zh-CN", "Asia/Shanghai", "星期一 21:00"),
        ("ja", "ja-JP", "Asia/Tokyo", "月曜日の22:00"),
        ("ko", "ko-KR", "Asia/Seoul", "월요일 오후 10:00"),
        ("ru", "ru-RU", "Europe/Moscow", "понедельник, 16:00"),
        ("ar", "ar-SA", "Asia/Riyadh", "يوم الاثنين الساعة 4:00 م"),
    ],
)
def test_when_a_person_is_back_in_the_shoppers_language_and_local_time(
    lang: str, tag: str, zone: str, expected: str
) -> None:
    shopper = Shopper(lang, tag, zone)
    assert when_back(REPLIES, shopper, MONDAY_NINE_NEW_YORK, NOW) == expected


def test_today_and_tomorrow_are_said_by_name_in_the_shoppers_own_day() -> None:
    new_yorker = Shopper("en", "en-US", "America/New_York")
    tokyo = Shopper("ja", "ja-JP", "Asia/Tokyo")
    saturday_morning_ny = datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # 9:00 in New York
    # Friday 18:00 in New York: Saturday is tomorrow. In Tokyo it is Saturday 08:00
    # already, and 23:00 the same day.
    assert when_back(REPLIES, new_yorker, saturday_morning_ny, NOW) == f"tomorrow at 9:00{NNBSP}AM"
    assert when_back(REPLIES, tokyo, saturday_morning_ny, NOW) == "今日の23:00"
    madrid = Shopper("es", "es-ES", "Europe/Madrid")
    assert when_back(REPLIES, madrid, saturday_morning_ny, NOW) == "hoy a las 15:00"


def test_beyond_a_week_the_date_is_said() -> None:
    later = datetime(2026, 3, 16, 13, 0, tzinfo=UTC)  # ten days on
    assert when_back(REPLIES, Shopper("en", "en-US", "America/New_York"), later, NOW) == (
        f"March 16 at 9:00{NNBSP}AM"
    )
    assert when_back(REPLIES, Shopper("de", "de", "Europe/Berlin"), later, NOW) == (
        "am 16. März um 14:00"
    )


def test_the_note_offers_email_or_says_where_replies_go() -> None:
    shopper = Shopper("en", "en-US", "America/New_York")
    offer = off_hours_note(REPLIES, shopper, MONDAY_NINE_NEW_YORK, NOW)
    assert f"back Monday at 9:00{NNBSP}AM your time" in offer
    assert "write your email address" in offer
    known = Shopper("es", "es-ES", "Europe/Madrid", email="ana@example.com")
    told = off_hours_note(REPLIES, known, MONDAY_NINE_NEW_YORK, NOW)
    assert "el lunes a las 14:00 (tu hora local)" in told
    assert "por correo a ana@example.com" in told
    japanese = off_hours_note(REPLIES, Shopper("ja", None, "Asia/Tokyo"), MONDAY_NINE_NEW_YORK, NOW)
    assert "月曜日の22:00に戻り" in japanese
    assert " " not in japanese  # sentences run on without spaces


def test_an_unknown_zone_or_locale_still_gives_an_answer() -> None:
    shopper = Shopper("en", "xx-YY", "Nowhere/Else")
    assert when_back(REPLIES, shopper, MONDAY_NINE_NEW_YORK, NOW) == f"Monday at 1:00{NNBSP}PM"


def test_every_language_has_the_off_hours_texts() -> None:
    for lang in REPLIES.languages:
        for key in ("off_hours_back", "off_hours_day", "email_saved", "email_invalid"):
            assert REPLIES.say(lang, key, when="X", day="D", time="T", email="E")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("my email is ana.garcia@example.com.", "ana.garcia@example.com"),
        ("邮箱：li.wei@example.cn。", "li.wei@example.cn"),
        ("<bob+shop@mail.example.org>", "bob+shop@mail.example.org"),
        ("write to me at ana@example", "ana@example"),  # found; the service refuses it
        ("no address here", None),
        ("@ alone", None),
        ("メールは taro@example.jp です", "taro@example.jp"),
        ("li.wei@example.cn，谢谢", "li.wei@example.cn"),
    ],
)
def test_an_address_is_picked_out_of_the_message(text: str, found: str | None) -> None:
    assert find_email(text) == found
