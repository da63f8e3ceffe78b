"""Cases: the returns and exchanges the bot opens, and what an agent may decide on them.

A case opens as `open`; an agent approves or rejects it, or closes it without a
decision (the shopper changed their mind). An approved or rejected case is closed when
it is done with (the parcel came back, the refund went out). A closed case is final.
"""

from __future__ import annotations

from enum import StrEnum

from portside.errors import Conflict, InvalidRequest


class CaseStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"


CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CLOSED}),
    CaseStatus.APPROVED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.REJECTED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

# An agent's note on a decision goes into the transcript as an internal note.
MAX_CASE_NOTE_CHARS = 1000

# How the transcript names a case's kind and a decision ("Return #12 approved").
KIND_LABELS = {"return": "Return", "exchange": "Exchange"}


# What an agent may set a case to (a case is only ever opened by the bot).
DECISIONS = (CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CLOSED)


def check_case_status(
    status: object, *, choices: tuple[CaseStatus, ...] = tuple(CaseStatus)
) -> CaseStatus:
    """A status among `choices`: every status to filter a list, DECISIONS to change one."""
    names = ", ".join(s.value for s in choices)
    if isinstance(status, str) and status in {s.value for s in choices}:
        return CaseStatus(status)
    message = f"status must be one of {names}, not {status!r}."
    raise InvalidRequest(message, details=[{"field": "status", "problem": message}])


def check_case_transition(current: CaseStatus, target: CaseStatus) -> None:
    """A refused move is a conflict with the case as it is now (409): the agent's screen
    was out of date, or a colleague decided it a moment before. The same answer whether
    the database let the second agent read the first one's decision or not."""
    if target not in CASE_TRANSITIONS[current]:
        if current is target:
            raise Conflict(f"This case is already {current}.")
        raise Conflict(f"A case that is {current} cannot become {target}.")


def clean_case_note(note: object) -> str | None:
    """The agent's note, trimmed; None when there is none."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidRequest(
            "note must be text.", details=[{"field": "note", "problem": "not text"}]
        )
    cleaned = note.strip()
    if len(cleaned) > MAX_CASE_NOTE_CHARS:
        message = (
            f"A note can have at most {MAX_CASE_NOTE_CHARS} characters; this one has "
            f"{len(cleaned)}."
        )
        raise InvalidRequest(message, details=[{"field": "note", "problem": message}])
    return cleaned or None


def decision_text(kind: str, case_id: int, status: CaseStatus, note: str | None) -> str:
    """The internal note a decision writes into the transcript."""
    label = KIND_LABELS.get(kind, "Case")
    text = f"{label} #{case_id} {status.value}"
    return f"{text}: {note}" if note else f"{text}."
