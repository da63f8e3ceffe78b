"""The HTTP server of `portside serve`: uvicorn, stopping without dropping anyone.

On SIGTERM (systemd's stop, `docker stop`, a rolling restart) the node drains:

1. `/readyz` answers 503 for `drain_s` seconds, so the load balancer stops sending it
   new clients; everything else is served as before, new sockets included;
2. every client's socket is closed with 1012 "server restarting": clients reconnect (to
   another node, through the balancer) and resume from their last `seq`;
3. uvicorn's own shutdown: it stops listening, lets requests in flight finish (at most
   `GRACEFUL_S`), and the application closes.

A second SIGTERM, or SIGINT (Ctrl-C), skips what is left of the drain.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import uvicorn

from portside.readiness import Drain

log = logging.getLogger("uvicorn.error")

# Requests still running after the sockets closed get this long to finish.
GRACEFUL_S = 5

# What uvicorn says for every WebSocket: three lines per widget, 33,000 when a node's
# 11,000 widgets come back after a restart (bench/cluster.py), each formatted and
# written. /metrics counts connections (and the load balancer logs them); refusals
# before the handshake (403) are still logged.
_PER_SOCKET = ('%s - "WebSocket %s" [accepted]', "connection open", "connection closed")


class QuietSockets(logging.Filter):
    """Drops uvicorn's lines for each WebSocket opened and closed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in _PER_SOCKET


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain, drain_s: float) -> None:
        super().__init__(config)
        self._drain = drain
        self._drain_s = drain_s
        self._drain_until: float | None = None  # monotonic time the drain ends
        self._announced = False
        self._finished = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs in the signal handler: it only sets flags; on_tick does the work.
        if sig == signal.SIGTERM and self.started and self._drain_until is None:
            self._drain.begin()
            self._drain_until = time.monotonic() + self._drain_s
            return
        self._drain_until = time.monotonic()  # nothing (more) to wait for
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._drain.draining and not self._announced and self._drain_s > 0:
            self._announced = True
            log.info(
                "Draining: /readyz answers 503 for %g s, then clients reconnect", self._drain_s
            )
        due = self._drain_until is not None and time.monotonic() >= self._drain_until
        if due and not self._finished:
            self._finished = True
            await self._drain.finish()
            self.should_exit = True
        return await super().on_tick(counter)


def serve(config: uvicorn.Config, drain: Drain, drain_s: float) -> None:
    server = DrainingServer(config, drain, drain_s)
    log.addFilter(QuietSockets())
    if drain_s > 0:
        log.info("On SIGTERM this node drains for %g s before it stops", drain_s)
    server.run()
