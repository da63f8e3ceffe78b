"""Agents' replies by email to shoppers who have left the page.

Every agent reply is announced on REPLIES_TOPIC after commit, and every node hears it.
A node where the shopper has a widget open says so on SEEN_TOPIC: the shopper saw the
reply live. The others wait `email_delay_s` (the shopper may be coming back, and the
widget then shows it), look again, and wait a moment more for any node to say so.
Last, the shopper's row is read: one online on any node (`online_until`, kept by the
node holding their widget, services/visitor_presence.py) gets no email, even when that
node's word was lost on the way. Then one of them sends it: sending starts with a
`pending` row in `emails` whose unique (store, Message-ID) admits one node and one try
only. A temporary failure is tried again after a growing wait, a few times; the row then
says `sent` or `failed` (with the error), and an internal `message.emailed` event tells
the agents under the reply.

Replies still waiting when the server stops are sent then (to shoppers not connected
here), so a restart does not lose them; one whose sending is cut short (the stop, or
the node's death) stays `pending`, and the node holding the lease "email-resend" sends
it again once it has been left alone too long (services/email_resend.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from portside.domain.conversations import Actor, ActorType, Event, EventType, Standing, Status
from portside.domain.mail import (
    MAX_REFERENCES,
    MailSendError,
    MailTransport,
    OutgoingReply,
    SmtpServer,
    build_reply,
    message_id_for,
    reply_address,
)
from portside.domain.ports import Subscription
from portside.services._log import Outcome, append_event, write
from portside.services.context import Services
from portside.services.conversations import REPLIES_TOPIC
from portside.services.email_settings import EmailSettings, read_email, valid_address
from portside.services.identity import mail_key
from portside.services.visitor_presence import online_from_row
from portside.storage import conversation_store, email_store, store_store

log = logging.getLogger(__name__)

SEEN_TOPIC = "email:seen"
# How long nodes wait, after the delay, for one of them to say the shopper is back.
SEEN_GRACE_S = 0.5
# Replies a node remembers as seen live (the newest; one node hears each once or twice).
SEEN_KEPT = 10_000
# How long a stopping server waits for the emails it is sending.
CLOSE_WAIT_S = 5.0
# Each wait between tries is this many times the one before.
BACKOFF = 4

IsOnline = Callable[[int, int], bool]


@dataclass(frozen=True)
class _Claim:
    """An email this node sends: its row, and the message, or why it cannot go."""

    email_id: int
    store_id: int
    conversation_id: int
    event_id: int
    to: str
    message_id: str
    server: SmtpServer | None = None
    message: EmailMessage | None = None
    problem: str | None = None


class EmailRelay:
    def __init__(self, svc: Services, transport: MailTransport, is_online: IsOnline) -> None:
        self.svc = svc
        self.transport = transport
        # Whether a visitor (store id, visitor id) has a widget open on this node: the
        # fast answer; any node's is read from the visitor's row before sending.
        self.is_online = is_online
        self._key = mail_key(svc.settings)
        self._waiting: dict[int, tuple[asyncio.TimerHandle, dict[str, Any]]] = {}
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._subscriptions: list[Subscription] = []

    async def start(self) -> None:
        self._subscriptions = [
            self.svc.bus.subscribe(REPLIES_TOPIC, self._on_reply),
            self.svc.bus.subscribe(SEEN_TOPIC, self._on_seen),
        ]

    async def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        waiting = [reply for _timer, reply in self._waiting.values()]
        for timer, _reply in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        for reply in waiting:
            if not self._online(reply):
                self._spawn(self.deliver(reply))
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_WAIT_S)
        for task in self._tasks:
            task.cancel()

    # What each node does with a reply, until one sends it or one has the shopper.

    def _on_reply(self, _topic: str, reply: dict[str, Any]) -> None:
        event_id = int(reply["event_id"])
        if event_id in self._seen or event_id in self._waiting:
            return
        if self._online(reply):
            self._spawn(self._say_seen(event_id))
            return
        self._wait(event_id, self.svc.settings.limits.email_delay_s, self._due, reply)

    def _on_seen(self, _topic: str, message: dict[str, Any]) -> None:
        event_id = int(message["event_id"])
        self._seen[event_id] = None
        while len(self._seen) > SEEN_KEPT:
            self._seen.popitem(last=False)
        waiting = self._waiting.pop(event_id, None)
        if waiting is not None:
            waiting[0].cancel()

    def _due(self, reply: dict[str, Any]) -> None:
        event_id = int(reply["event_id"])
        self._waiting.pop(event_id, None)
        if self._online(reply):
            self._spawn(self._say_seen(event_id))
            return
        grace = min(SEEN_GRACE_S, self.svc.settings.limits.email_delay_s)
        self._wait(event_id, grace, self._go, reply)

    def _go(self, reply: dict[str, Any]) -> None:
        event_id = int(reply["event_id"])
        self._waiting.pop(event_id, None)
        if event_id not in self._seen:
            self._spawn(self.deliver(reply))

    def _wait(
        self,
        event_id: int,
        delay: float,
        then: Callable[[dict[str, Any]], None],
        reply: dict[str, Any],
    ) -> None:
        timer = asyncio.get_running_loop().call_later(delay, then, reply)
        self._waiting[event_id] = (timer, reply)

    def _online(self, reply: dict[str, Any]) -> bool:
        return self.is_online(int(reply["store_id"]), int(reply["visitor_id"]))

    async def _say_seen(self, event_id: int) -> None:
        await self.svc.bus.publish(SEEN_TOPIC, {"event_id": event_id})

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending a reply by email failed", exc_info=task.exception())

    # Sending.

    async def deliver(
        self, reply: dict[str, Any], *, retaken: tuple[int, str] | None = None
    ) -> str | None:
        """Send one reply by email if it is to go and nobody has sent it: the status it
        ended with ("sent", "failed"), or None when it was not this node's to send.
        `retaken`: the row (id, Message-ID) of an email this node took over."""
        claim = await self._claim(reply, retaken)
        if claim is None:
            return None
        error = claim.problem or await self._send(claim)
        status = "sent" if error is None else "failed"
        await self._finish(claim, status, error)
        return status

    async def _send(self, claim: _Claim) -> str | None:
        """Hand the email to the store's server, trying again after a temporary failure;
        None once it is taken, else the last error."""
        assert claim.server is not None
        assert claim.message is not None
        attempts = self.svc.settings.limits.email_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self.transport.send(claim.server, claim.message)
            except MailSendError as exc:
                error, temporary = str(exc), exc.temporary
            except Exception as exc:  # a bug must not leave the row pending for ever
                log.exception("the mail transport failed on email %s", claim.email_id)
                error, temporary = f"{type(exc).__name__}: {exc}", False
            else:
                return None
            if not temporary or attempt == attempts:
                return error if attempt == 1 else f"{error} (tried {attempt} times)"
            await self._note_try(claim, f"try {attempt} of {attempts}: {error}")
            await asyncio.sleep(self.svc.settings.limits.email_retry_s * BACKOFF ** (attempt - 1))
        return None  # not reached: the last try returns

    async def _note_try(self, claim: _Claim, note: str) -> None:
        now = self.svc.clock.now()

        def note_try(conn: Connection) -> None:
            email_store.update_email(conn, claim.email_id, status="pending", error=note, now=now)

        await self.svc.db.write(note_try)

    async def _claim(
        self, reply: dict[str, Any], retaken: tuple[int, str] | None = None
    ) -> _Claim | None:
        """The row that makes this node the one to send the reply, with the email;
        None when it is not to go by email (the shopper is online on some node), or
        another node or try has it."""
        store_id, conversation_id = int(reply["store_id"]), int(reply["conversation_id"])
        event_id = int(reply["event_id"])
        now = self.svc.clock.now()

        def look(conn: Connection) -> tuple[Any, Any, EmailSettings, list[str]] | None:
            # Read first: most stores do not email, and reads do not hold the writer.
            row = conversation_store.find_conversation(conn, store_id, conversation_id)
            store = store_store.find_store(conn, store_id)
            if row is None or store is None:
                return None
            settings = read_email(store.settings)
            if not settings.enabled:
                return None
            visitor = store_store.find_visitor(conn, store_id, row.visitor_id)
            if visitor is None or not visitor.email or online_from_row(visitor, now):
                return None
            earlier = email_store.list_message_ids(conn, conversation_id, MAX_REFERENCES)
            return store, visitor, settings, earlier

        found = await self.svc.db.read(look)
        if found is None:
            return None
        store, visitor, settings, earlier = found
        if retaken is not None:
            # Its row (id, Message-ID), taken over from a node that stopped mid-way
            # (services/email_resend.py): the same Message-ID goes out again.
            email_id, message_id = retaken
        else:
            message_id = message_id_for(self._key, event_id, settings.reply_domain)
            try:
                email_id = await self.svc.db.write(
                    lambda conn: email_store.insert_email(
                        conn,
                        store_id=store_id,
                        conversation_id=conversation_id,
                        direction="out",
                        message_id=message_id,
                        event_id=event_id,
                        status="pending",
                        now=now,
                    )
                )
            except IntegrityError:
                return None  # another node, or an earlier try, has this one
        claimed = _Claim(email_id, store_id, conversation_id, event_id, visitor.email, message_id)
        if not valid_address(visitor.email):
            # Recorded as failed like any refusal, so that the agent sees why.
            return replace(claimed, problem="The shopper's email address is not valid.")
        try:
            message = build_reply(
                OutgoingReply(
                    store_name=store.name,
                    from_address=settings.from_address,
                    from_name=settings.from_name or store.name,
                    to_address=visitor.email,
                    to_name=visitor.name,
                    reply_to=reply_address(
                        self._key, store_id, conversation_id, settings.reply_domain
                    ),
                    message_id=message_id,
                    earlier=earlier,
                    agent_name=str(reply.get("agent") or store.name),
                    text=str(reply["text"]),
                    sent_at=now,
                )
            )
        except (ValueError, TypeError, IndexError) as exc:  # a header the email package refuses
            return replace(claimed, problem=f"The email could not be made: {exc}")
        return replace(claimed, server=settings.server, message=message)

    async def _finish(self, claim: _Claim, status: str, error: str | None) -> Event | None:
        """Record how it went, and tell the agents under the reply."""
        data = {
            "event_id": claim.event_id,
            "status": status,
            "to": claim.to,
            "message_id": claim.message_id,
            "error": error,
        }
        client_id = f"email:{claim.event_id}"
        svc = self.svc

        def attempt(conn: Connection, careful: bool) -> Outcome[Event | None]:
            now = svc.clock.now()
            email_store.update_email(conn, claim.email_id, status=status, error=error, now=now)
            row = conversation_store.find_conversation(conn, claim.store_id, claim.conversation_id)
            if row is None:
                return None, [], None
            if careful and conversation_store.find_event_by_client_id(conn, row.id, client_id):
                return None, [], None
            event = append_event(
                svc,
                conn,
                row,
                Actor(ActorType.SYSTEM),
                EventType.MESSAGE_EMAILED,
                data,
                client_id,
                now=now,
            )
            return event, [event], Standing(Status(row.status), row.assignee_id)

        return await write(svc, attempt)
