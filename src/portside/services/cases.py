"""Cases for agents: the returns and exchanges the bot opened, and their decisions.

Any signed-in agent of the store may read and decide a case (docs/api.md). A decision
changes the case and writes an internal note into its conversation in one transaction,
so the transcript says who approved what, and the consoles that follow the
conversation hear of it live.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Row

from portside.domain.cases import (
    DECISIONS,
    CaseStatus,
    check_case_status,
    check_case_transition,
    clean_case_note,
    decision_text,
)
from portside.domain.conversations import EventType, Standing, Status, format_time
from portside.errors import Conflict, InvalidRequest, NotFound
from portside.services._log import Outcome, append_message, get_conversation, write
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import case_store

MAX_CASES_PAGE = 200


def case_to_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "kind": row.kind,
        "status": row.status,
        "data": row.data,
        "created_at": format_time(row.created_at),
        "updated_at": format_time(row.updated_at),
    }


async def list_cases(
    svc: Services,
    store_id: int,
    *,
    status: str | None = None,
    conversation_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The store's cases, newest first, of one status and/or one conversation."""
    wanted = check_case_status(status).value if status else None
    if not 1 <= limit <= MAX_CASES_PAGE:
        message = f"limit must be between 1 and {MAX_CASES_PAGE}."
        raise InvalidRequest(message, details=[{"field": "limit", "problem": message}])
    rows = await svc.db.read(
        lambda conn: case_store.list_cases(
            conn, store_id, status=wanted, conversation_id=conversation_id, limit=limit
        )
    )
    return [case_to_dict(row) for row in rows]


async def get_case(svc: Services, store_id: int, case_id: int) -> dict[str, Any]:
    row = await svc.db.read(lambda conn: case_store.find_case(conn, store_id, case_id))
    if row is None:
        raise NotFound("This case does not exist.")
    return case_to_dict(row)


async def do_change_case_status(
    svc: Services,
    agent: AgentIdentity,
    *,
    case_id: int,
    status: object,
    note: object = None,
) -> dict[str, Any]:
    """Approve, reject or close a case; its conversation gets an internal note saying so.

    Returns `{"case", "event"}`: the case after the change and the note's event.
    Two agents deciding at once: the first wins, the second gets 409 saying what the
    case became (on PostgreSQL the second may read the case before the first commits;
    the guarded update then changes nothing and the case is read again).
    """
    target = check_case_status(status, choices=DECISIONS)
    cleaned = clean_case_note(note)

    def attempt(conn: Connection, _careful: bool) -> Outcome[dict[str, Any]]:
        row = case_store.find_case(conn, agent.store_id, case_id)
        if row is None:
            raise NotFound("This case does not exist.")
        current = CaseStatus(row.status)
        check_case_transition(current, target)
        now = svc.clock.now()
        history = [*row.data.get("history", []), _decision(agent, target, cleaned, now)]
        data = {**row.data, "history": history}
        changed = case_store.update_case(
            conn,
            agent.store_id,
            case_id,
            now,
            status_was=current.value,
            status=target.value,
            data=data,
        )
        if not changed:
            # Another agent decided it a moment before: nothing is written twice.
            now_row = case_store.find_case(conn, agent.store_id, case_id)
            if now_row is not None:
                check_case_transition(CaseStatus(now_row.status), target)
            raise Conflict("This case was changed meanwhile; look at it again.")
        conversation = get_conversation(conn, agent.store_id, row.conversation_id)
        event = append_message(
            svc,
            conn,
            conversation,
            agent.actor,
            EventType.NOTE_CREATED,
            decision_text(row.kind, row.id, target, cleaned),
            f"case:{row.id}:{target.value}",
            {"case": {"id": row.id, "status": target.value}},
        )
        updated = case_store.find_case(conn, agent.store_id, case_id)
        assert updated is not None
        standing = Standing(Status(conversation.status), conversation.assignee_id)
        return {"case": case_to_dict(updated), "event": event.to_wire()}, [event], standing

    return await write(svc, attempt)


def _decision(
    agent: AgentIdentity, status: CaseStatus, note: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "status": status.value,
        "note": note,
        "by": {"id": agent.id, "name": agent.name},
        "at": format_time(now),
    }


# Photos a case keeps at most (a shopper may send a few, not a gallery).
MAX_CASE_PHOTOS = 20


async def do_add_case_photos(
    svc: Services, store_id: int, conversation_id: int, attachment_ids: list[int]
) -> int | None:
    """Photos the shopper sent after the bot opened a return or exchange case, as its
    evidence: added to the conversation's latest case while it is open. The case's
    number, or None if the conversation has no open one."""

    def add(conn: Connection) -> int | None:
        found = case_store.list_cases(
            conn, store_id, conversation_id=conversation_id, status="open", limit=1
        )
        if not found or found[0].kind not in ("return", "exchange"):
            return None
        row = found[0]
        photos = [int(p) for p in row.data.get("photos") or []]
        photos += [i for i in attachment_ids if i not in photos]
        case_store.update_case(
            conn,
            store_id,
            row.id,
            svc.clock.now(),
            status_was="open",
            data={**row.data, "photos": photos[:MAX_CASE_PHOTOS]},
        )
        return int(row.id)

    return await svc.db.write(add)
