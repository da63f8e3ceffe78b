"""CSAT: a rating asked of the shopper at each resolution, their answer, the summary.

Resolving a conversation (services/conversations.py) calls `request_rating` inside its
own transaction: the rating's row and the public `csat.requested` event are written with
the resolution or not at all. The widget shows the question in the shopper's language
and answers with a `csat.submit` frame: `do_submit_rating` stores the score once per
request and appends `csat.rated`, which the agents see with the comment and the shopper
as thanks. A store turns the questions off with its `csat` settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from portside.domain.conversations import Actor, ActorType, Event, EventType, Standing, Status
from portside.domain.csat import attribute, check_comment, check_score
from portside.errors import AlreadyRated, Forbidden, InvalidRequest, NotFound, RateLimited
from portside.services._log import Outcome, append_event, write
from portside.services._sections import read_section
from portside.services.canned_render import shopper_language
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import conversation_store, rating_store, store_store

# Who may read the ratings of the store's people.
SUMMARY_ROLES = ("admin", "supervisor")


@dataclass(frozen=True)
class CsatSettings:
    # On unless a store turns it off.
    enabled: bool = True


def check_csat(body: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """The `csat` settings section, checked (services/settings.py)."""
    del old  # nothing is kept from before
    unknown = sorted(str(key) for key in body if key != "enabled")
    if unknown:
        raise InvalidRequest(
            f"Unknown settings: {', '.join(unknown)}. The known one is enabled.",
            details=[{"field": key, "problem": "unknown setting"} for key in unknown],
        )
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        message = f"enabled is true or false, not {enabled!r}."
        raise InvalidRequest(message, details=[{"field": "enabled", "problem": message}])
    return {"enabled": enabled}


def read_csat(settings: Mapping[str, Any] | None) -> CsatSettings:
    """The `csat` section of a store's stored settings; anything unreadable is the
    default (on): a broken setting should not silence every shopper."""
    return read_section(settings, "csat", check_csat, CsatSettings)


def request_rating(
    svc: Services, conn: Connection, row: Any, resolved: Event, resolver_id: int | None
) -> list[Event]:
    """Inside the resolving transaction: the rating request of the resolution
    `resolved` (its row and the `csat.requested` event), or nothing if the store turned
    CSAT off. `row` is the conversation as read before it was resolved."""
    store = store_store.find_store(conn, row.store_id)
    if store is None or not read_csat(store.settings).enabled:
        return []
    who = attribute(
        handoff_at=row.handoff_at,
        ever_assigned=rating_store.ever_assigned(conn, row.id),
        assignee_id=row.assignee_id,
        resolver_id=resolver_id,
    )
    rating_store.insert_rating(
        conn,
        store_id=row.store_id,
        conversation_id=row.id,
        resolved_seq=resolved.seq,
        resolved_by=who.resolved_by.value,
        agent_id=who.agent_id,
        now=svc.clock.now(),
    )
    data = {
        "resolved_seq": resolved.seq,
        "language": shopper_language(conn, row, store.default_language),
        "resolved_by": who.resolved_by.value,
    }
    return [append_event(svc, conn, row, Actor(ActorType.SYSTEM), EventType.CSAT_REQUESTED, data)]


async def do_submit_rating(
    svc: Services,
    *,
    store_id: int,
    visitor_id: int,
    conversation_id: int,
    resolved_seq: int,
    score: object,
    comment: object,
) -> Event:
    """The shopper's answer to the rating request of the resolution at `resolved_seq`:
    stored once; a second answer is refused with `already_rated`."""
    checked_score = check_score(score)
    checked_comment = check_comment(comment)
    retry = svc.limiters.messages.hit(f"csat:{visitor_id}")
    if retry:
        raise RateLimited(
            f"Too many ratings; wait {retry:.0f} s and send again.", retry_after=retry
        )

    def attempt(conn: Connection, _careful: bool) -> Outcome[Event]:
        row = conversation_store.find_conversation(conn, store_id, conversation_id)
        if row is None or row.visitor_id != visitor_id:
            raise NotFound("This conversation does not exist.")
        rating = rating_store.find_rating(conn, store_id, conversation_id, resolved_seq)
        if rating is None:
            raise NotFound("No rating was asked for at this point of the conversation.")
        now = svc.clock.now()
        if rating.score is not None or not rating_store.record_score(
            conn, rating.id, score=checked_score, comment=checked_comment, now=now
        ):
            raise AlreadyRated("You already rated this conversation; thank you.")
        data = {
            "resolved_seq": resolved_seq,
            "score": checked_score,
            "comment": checked_comment,
            "resolved_by": rating.resolved_by,
            "agent_id": rating.agent_id,
        }
        actor = Actor(ActorType.VISITOR, visitor_id)
        event = append_event(svc, conn, row, actor, EventType.CSAT_RATED, data, now=now)
        return event, [event], Standing(Status(row.status), row.assignee_id)

    return await write(svc, attempt)


async def get_ratings_summary(
    svc: Services,
    agent: AgentIdentity,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Average score and count per agent and for the bot, of the resolutions between
    `since` and `until`: for supervisors and admins."""
    if agent.role not in SUMMARY_ROLES:
        raise Forbidden("Only a store's supervisors and admins can read its ratings.")
    if since is not None and until is not None and since >= until:
        message = "since must come before until."
        raise InvalidRequest(message, details=[{"field": "since", "problem": message}])
    rows = await svc.db.read(
        lambda conn: rating_store.list_summary(conn, agent.store_id, since=since, until=until)
    )
    bot: dict[str, Any] = {"average": None, "count": 0, "requested": 0}
    people: list[dict[str, Any]] = []
    for row in rows:
        figures = {
            "average": None if row.average is None else round(float(row.average), 2),
            "count": int(row.rated),
            "requested": int(row.requested),
        }
        if row.resolved_by == "bot":
            bot = figures
        else:
            person = None if row.agent_id is None else {"id": row.agent_id, "name": row.agent_name}
            people.append({"agent": person, **figures})
    return {"agents": people, "bot": bot}
