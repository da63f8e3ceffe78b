"""CSAT: who a resolution's rating belongs to, and what a shopper's answer may be.

When a conversation is resolved, the shopper is asked to rate it, once per resolution.
The rating belongs to the bot when no person ever had the conversation, and otherwise
to the person who had it when it was resolved (else to the one who resolved it), so a
store sees its people's ratings and its bot's apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from portside.errors import InvalidRequest

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT = 1000


class ResolvedBy(StrEnum):
    BOT = "bot"
    AGENT = "agent"


@dataclass(frozen=True)
class Attribution:
    resolved_by: ResolvedBy
    agent_id: int | None


def attribute(
    *,
    handoff_at: datetime | None,
    ever_assigned: bool,
    assignee_id: int | None,
    resolver_id: int | None,
) -> Attribution:
    """Whose rating a resolution's is: the bot's if the conversation never went to a
    person (never handed off, nobody ever assigned), else the agent who had it at the
    resolution, else the agent who resolved it."""
    if handoff_at is None and not ever_assigned and assignee_id is None:
        return Attribution(ResolvedBy.BOT, None)
    return Attribution(ResolvedBy.AGENT, assignee_id if assignee_id is not None else resolver_id)


def check_score(score: object) -> int:
    if (
        isinstance(score, bool)
        or not isinstance(score, int)
        or not (MIN_SCORE <= score <= MAX_SCORE)
    ):
        raise _invalid(
            "score", f"score is a whole number from {MIN_SCORE} to {MAX_SCORE}, not {score!r}."
        )
    return score


def check_comment(comment: object) -> str | None:
    """The comment trimmed, None when there is none."""
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise _invalid("comment", "comment is text, or left out.")
    cleaned = comment.strip()
    if len(cleaned) > MAX_COMMENT:
        raise _invalid(
            "comment",
            f"A comment can have at most {MAX_COMMENT} characters; this one has {len(cleaned)}.",
        )
    return cleaned or None


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, details=[{"field": field, "problem": message}])
