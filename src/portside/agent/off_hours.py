"""What the bot says when a shopper wants a person outside business hours: no I/O.

The shopper hears when a person is back in their own local time and language ("Monday
at 9:00 AM your time", "mañana a las 9:00"): today and tomorrow by name, a weekday
within the week, a date beyond it; the clock as the shopper's locale writes it (Babel).
Then the offer to continue by email, or, when their address is known, that replies go
there too. An address they write afterwards is picked out of their message here and
checked by the service that stores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time

from portside.agent.replies import Replies

# What a shopper writes as an address, loosely: the characters an address may have on
# each side of an @ (ASCII: in Chinese or Japanese text nothing but them marks where it
# ends). Whether it is one is checked when it is stored.
_EMAIL_LIKE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
# Said of an address at the end of a sentence, not part of it.
_TRAILING = ".!?。！？،"
# Beyond this many days ahead, the day is said as a date rather than a weekday.
_WEEK = 6
# Languages written without spaces between sentences.
_NO_SPACES = frozenset({"zh", "ja"})


@dataclass(frozen=True)
class Shopper:
    """Who is told: the language the bot speaks with them, their browser's language tag
    (its region picks the formats: "en-GB" writes 09:00, "en-US" 9:00 AM), their time
    zone (the store's when the browser did not say), and their email if known."""

    lang: str
    tag: str | None
    timezone: str
    email: str | None = None


def when_back(replies: Replies, shopper: Shopper, opens_at: datetime, now: datetime) -> str:
    """ "tomorrow at 9:00 AM", "el lunes a las 15:00", "3月16日 09:00"..."""
    zone = _zone(shopper.timezone)
    locale = _locale(shopper.lang, shopper.tag)
    local = opens_at.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    clock = format_time(time(local.hour, local.minute), "short", locale=locale)
    if days <= 0:
        return replies.say(shopper.lang, "off_hours_today", time=clock)
    if days == 1:
        return replies.say(shopper.lang, "off_hours_tomorrow", time=clock)
    if days <= _WEEK:
        day = format_date(local.date(), "EEEE", locale=locale)
    else:
        midnight = datetime.combine(local.date(), time())
        day = format_skeleton("MMMMd", midnight, locale=locale)
    return replies.say(shopper.lang, "off_hours_day", day=day, time=clock)


def off_hours_note(replies: Replies, shopper: Shopper, opens_at: datetime, now: datetime) -> str:
    """When a person is back, and how the conversation can go on meanwhile."""
    back = replies.say(
        shopper.lang, "off_hours_back", when=when_back(replies, shopper, opens_at, now)
    )
    if shopper.email:
        then = replies.say(shopper.lang, "off_hours_email_known", email=shopper.email)
    else:
        then = replies.say(shopper.lang, "off_hours_email_offer")
    return f"{back} {then}" if shopper.lang not in _NO_SPACES else f"{back}{then}"


def find_email(text: str) -> str | None:
    """The first thing in the message written like an email address, if any."""
    match = _EMAIL_LIKE.search(text)
    if match is None:
        return None
    return match.group(0).rstrip(_TRAILING) or None


def details(opens_at: datetime) -> dict[str, str]:
    """What the bot's message records of it, for the console and the tests."""
    return {"opens_at": opens_at.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _locale(lang: str, tag: str | None) -> Locale:
    """The browser's own locale when it is of the language spoken (es-MX for Spanish),
    else the language's."""
    for candidate in (tag, lang):
        if not candidate:
            continue
        code = candidate.replace("-", "_")
        if code.split("_")[0].lower() != lang:
            continue
        try:
            return Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")
