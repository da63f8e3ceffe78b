"""GET /metrics: this node's figures for its operators, in the Prometheus text format.

Who may read them (docs/operating.md): with PORTSIDE_METRICS_TOKEN set, a request that
brings `Authorization: Bearer <token>`; without it, clients on this machine only. The
address is the socket's peer, never a header a client could write.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math

from fastapi import APIRouter, Request, Response

from portside.errors import Forbidden, NotAuthenticated, PortsideError
from portside.node_metrics import CONTENT_TYPE, NodeMetrics
from portside.realtime.hub import Hub
from portside.services.routing import get_queue_length
from portside.web.deps import ServicesDep

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


class MetricsTokenRequired(NotAuthenticated):
    code = "metrics_token_required"


class MetricsLoopbackOnly(Forbidden):
    code = "metrics_loopback_only"


def check_metrics_access(token: str, authorization: str | None, client_host: str | None) -> None:
    """Raise unless a request with this Authorization header, from this address, may
    read the metrics: the token when one is set, else an address of this machine."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise MetricsTokenRequired(
                "The metrics need Authorization: Bearer with the PORTSIDE_METRICS_TOKEN."
            )
        return
    if not is_loopback(client_host):
        raise MetricsLoopbackOnly(
            "The metrics answer this machine only; set PORTSIDE_METRICS_TOKEN to scrape "
            "them from elsewhere."
        )


def is_loopback(host: str | None) -> bool:
    """Whether `host` is an address of this machine (127.0.0.0/8, ::1, ::ffff:127.x)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


@router.get("/metrics")
async def metrics(request: Request, svc: ServicesDep) -> Response:
    check_metrics_access(
        svc.settings.metrics_token,
        request.headers.get("authorization"),
        request.client.host if request.client else None,
    )
    node: NodeMetrics = request.app.state.metrics
    hub: Hub = request.app.state.hub
    for kind, count in hub.count_connections().items():
        node.set_connections(kind, count)
    try:
        node.set_queue(await get_queue_length(svc))
    except PortsideError as exc:
        # The other figures matter most when the database is away: serve them.
        log.warning("metrics: the queue length could not be read: %s", exc.message)
        node.set_queue(math.nan)
    return Response(node.render(), media_type=CONTENT_TYPE)
