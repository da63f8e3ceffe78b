"""Erasure: a store's admin deletes a conversation, or a shopper with everything of
theirs (a shopper's erasure request; docs/api.md#erasure).

One transaction decides it: the conversation's (or the shopper's) rows are deleted
(storage/erasure_store.py: events, cases, ratings, emails and tracked behaviour go with
them), the labelled examples taken from their messages too, and their attachments are
*erased*: taken out of the conversation, their words dropped, their rows kept only to
name their files. After commit the consoles and the shopper's widgets are told
(`conversation.deleted`, docs/protocol.md), then the files are deleted and the erased
rows with them. A file the store cannot delete now (S3 down) keeps its row, and the
hourly sweep (services/attachment_files.py) tries again: nothing is left half-deleted,
and no file is ever left without a row naming it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from portside.errors import Forbidden, NotFound
from portside.services.attachment_files import delete_erased_files
from portside.services.context import Services
from portside.services.identity import AgentIdentity
from portside.storage import attachment_store, erasure_store, store_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    """What an erasure removed."""

    visitor_id: int
    conversation_ids: list[int]
    attachments: int
    # Attachments whose files could not be deleted yet: the sweep tries again.
    files_pending: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversations": self.conversation_ids,
            "attachments": self.attachments,
            "files_pending": self.files_pending,
        }


def check_can_erase(agent: AgentIdentity) -> None:
    if agent.role != "admin":
        raise Forbidden("Only a store's admins can delete conversations and shoppers.")


async def do_delete_conversation(
    svc: Services, agent: AgentIdentity, *, conversation_id: int
) -> Erased:
    """Delete one conversation of the agent's store, its files included."""
    check_can_erase(agent)
    store_id = agent.store_id

    def erase(conn: Connection) -> tuple[int, list[Any]]:
        row = erasure_store.lock_conversation(conn, store_id, conversation_id)
        if row is None:
            raise NotFound("This conversation does not exist.")
        taken = attachment_store.erase_attachments(
            conn, store_id, conversation_ids=[conversation_id]
        )
        erasure_store.delete_intent_examples(conn, store_id, [conversation_id])
        erasure_store.delete_conversation(conn, store_id, conversation_id)
        return int(row.visitor_id), taken

    visitor_id, taken = await svc.db.write(erase)
    log.info(
        "store %s: agent %s deleted conversation %s (%d attachments)",
        store_id,
        agent.id,
        conversation_id,
        len(taken),
    )
    return await _after(svc, store_id, visitor_id, [conversation_id], taken, visitor=False)


async def do_delete_visitor(svc: Services, agent: AgentIdentity, *, visitor_id: int) -> Erased:
    """Erase a shopper of the agent's store: their conversations with everything in
    them, their uploads, their tracked behaviour, and the shopper themself. Their
    orders and coupon codes stay the store's, without them."""
    check_can_erase(agent)
    store_id = agent.store_id

    def erase(conn: Connection) -> tuple[list[int], list[Any]]:
        # Locked first: a first message or an upload of theirs commits before, or
        # finds them gone; a message into one of their conversations likewise.
        if store_store.lock_visitor(conn, store_id, visitor_id) is None:
            raise NotFound("This visitor does not exist.")
        conversation_ids = erasure_store.lock_visitor_conversations(conn, store_id, visitor_id)
        taken = attachment_store.erase_attachments(
            conn, store_id, conversation_ids=conversation_ids, visitor_id=visitor_id
        )
        erasure_store.delete_intent_examples(conn, store_id, conversation_ids)
        for conversation_id in conversation_ids:
            erasure_store.delete_conversation(conn, store_id, conversation_id)
        erasure_store.delete_visitor(conn, store_id, visitor_id)
        return conversation_ids, taken

    conversation_ids, taken = await svc.db.write(erase)
    log.info(
        "store %s: agent %s erased visitor %s (%d conversations, %d attachments)",
        store_id,
        agent.id,
        visitor_id,
        len(conversation_ids),
        len(taken),
    )
    return await _after(svc, store_id, visitor_id, conversation_ids, taken, visitor=True)


async def _after(
    svc: Services,
    store_id: int,
    visitor_id: int,
    conversation_ids: list[int],
    taken: list[Any],
    *,
    visitor: bool,
) -> Erased:
    """Once committed: tell the clients, then delete the files."""
    await svc.publish_signal(
        store_id,
        {
            "kind": "erasure",
            "store_id": store_id,
            "visitor_id": visitor_id,
            "conversation_ids": conversation_ids,
            "visitor_erased": visitor,
        },
    )
    try:
        gone = await delete_erased_files(svc, taken)
    except Exception:
        # Committed all the same: the sweep finishes what is left.
        log.exception("store %s: the files of an erasure are left to the sweep", store_id)
        gone = 0
    return Erased(visitor_id, conversation_ids, len(taken), len(taken) - gone)
