"""A real SMTP server (aiosmtpd) for tests, on its own thread and a free port.

It takes every message for any address, or answers the first `fail_first` tries with
`fail_with` (a temporary 451 unless told), so that a test can watch Portside retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.server import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class SmtpInbox:
    port: int = 0
    fail_first: int = 0
    fail_with: str = "451 4.3.0 Try again later"
    # Messages offered (DATA commands), taken or not.
    attempts: int = 0
    _taken: queue.Queue[Received] = field(default_factory=queue.Queue)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return self.fail_with
        raw = bytes(envelope.original_content or envelope.content)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self._taken.put(Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 2.0.0 OK"

    async def next(self, timeout: float = 10) -> Received:
        """The next message taken; TimeoutError if none comes."""
        try:
            return await asyncio.to_thread(self._taken.get, timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no email within {timeout} s") from None

    def taken(self) -> int:
        return self._taken.qsize()


@contextlib.contextmanager
def smtp_server(**options: Any) -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(port=free_port(), **options)
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
