"""Emails whose node stopped in the middle of sending them, sent by another node.

The relay (services/email_out.py) writes an email's `pending` row before its first try
and touches it at every try; a row left `pending` and untouched for longer than the
longest wait between two tries, plus `email_stalled_s`, belongs to a node that died
(or stopped) mid-way. The node holding the lease "email-resend" takes such a row over
(a compare-and-set on the time it was last touched, so one node does) and sends it with
the same Message-ID, its tries counted afresh. Exactly once, as far as email allows: a
node that died after the SMTP server took the message but before writing `sent` leaves
a row that goes out a second time, with the same Message-ID, which mail clients
recognise as the same message.

A stalled email older than RESEND_WITHIN is not sent any more: it is marked `failed`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from portside.config import Limits
from portside.services.context import Services
from portside.services.email_out import BACKOFF, EmailRelay
from portside.services.leases import LeasedJob
from portside.storage import email_store

log = logging.getLogger(__name__)

LEASE = "email-resend"
# How often the holder looks, at most.
EVERY_S = 60.0
# Stalled emails older than this are marked failed rather than sent late.
RESEND_WITHIN = timedelta(days=1)
BATCH = 50
TAKEN_OVER = "Its node stopped while sending it; sent again by another node."
TOO_OLD = "Its node stopped while sending it, and a day has passed: not sent."
NOT_TO_GO = "Its node stopped while sending it; not sent again (no longer to go by email)."


def stalled_after(limits: Limits) -> timedelta:
    """How long a `pending` row is left alone before it counts as cut off: the longest
    wait between two tries, and `email_stalled_s` for the try itself."""
    longest = limits.email_retry_s * BACKOFF ** max(0, limits.email_attempts - 2)
    return timedelta(seconds=longest + limits.email_stalled_s)


async def do_resend_stalled(svc: Services, relay: EmailRelay) -> int:
    """Take over and send the stalled emails; how many this node took."""
    now = svc.clock.now()
    touched_before = now - stalled_after(svc.settings.limits)
    too_old = now - RESEND_WITHIN
    failed = await svc.db.write(
        partial(
            email_store.fail_abandoned,
            created_before=too_old,
            touched_before=touched_before,
            error=TOO_OLD,
            now=now,
        )
    )
    if failed:
        log.warning("%d emails left pending by a stopped node were too old to send", failed)
    rows = await svc.db.read(
        partial(
            email_store.list_stalled,
            touched_before=touched_before,
            created_since=too_old,
            limit=BATCH,
        )
    )
    taken = 0
    for row in rows:
        if await _resend(svc, relay, row):
            taken += 1
    return taken


async def _resend(svc: Services, relay: EmailRelay, row: Any) -> bool:
    now = svc.clock.now()
    email_id = int(row.id)
    mine = await svc.db.write(
        partial(
            email_store.retake_email,
            email_id=email_id,
            seen=row.updated_at,
            note=TAKEN_OVER,
            now=now,
        )
    )
    if not mine:
        return False  # another node took it, or its node is alive after all
    reply = await svc.db.read(lambda conn: email_store.find_reply(conn, int(row.event_id or 0)))
    status = None
    if reply is not None:
        status = await relay.deliver(
            {
                "store_id": int(row.store_id),
                "conversation_id": int(row.conversation_id),
                "visitor_id": int(reply.visitor_id),
                "event_id": int(row.event_id),
                "text": str((reply.data or {}).get("text") or ""),
                "agent": reply.actor_name,
            },
            retaken=(email_id, str(row.message_id)),
        )
    if status is None:
        # The reply is gone, or the store stopped emailing, or the shopper lost their
        # address or is back on the page: this row is ours, and closed.
        await svc.db.write(
            lambda conn: email_store.update_email(
                conn, email_id, status="failed", error=NOT_TO_GO, now=svc.clock.now()
            )
        )
    log.info("email %s, left pending by a stopped node: %s", email_id, status or "not sent")
    return True


class EmailResender:
    """The leased job, started and stopped with the app."""

    def __init__(self, svc: Services, relay: EmailRelay, *, shared: bool | None = None) -> None:
        stalled = stalled_after(svc.settings.limits).total_seconds()
        every_s = min(EVERY_S, max(0.5, stalled / 2))
        self.job = LeasedJob(
            svc, LEASE, partial(do_resend_stalled, svc, relay), every_s=every_s, shared=shared
        )

    def start(self) -> None:
        self.job.start()

    async def close(self) -> None:
        await self.job.close()
