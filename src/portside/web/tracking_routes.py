"""Shopping behaviour over HTTP (docs/api.md): the widget's beacon as a page is left,
and the store's agents reading events back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from portside.errors import PortsideError, UnsupportedMediaType, field_error
from portside.services import tracking
from portside.services.tracking_beacon import MAX_BEACON_BYTES, do_track_beacon
from portside.web.deps import AgentDep, ServicesDep, client_address, read_body

router = APIRouter(prefix="/api/v1", tags=["tracking"])

# sendBeacon with a string sends text/plain, which needs no CORS preflight.
CONTENT_TYPES = ("text/plain", "application/json")


class BeaconTooLarge(PortsideError):
    code = "too_large"
    status = 413


@router.post("/track", status_code=204)
async def track_beacon(request: Request, svc: ServicesDep) -> Response:
    """Events from `navigator.sendBeacon`; no session: the body carries the store's
    widget key and the visitor's token, and Origin is checked against the store's."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            "Send the events as JSON with Content-Type text/plain (as sendBeacon does) "
            f"or application/json, not {content_type or 'no Content-Type'}."
        )
    body = await _read_body(request, MAX_BEACON_BYTES)
    await do_track_beacon(
        svc, body=body, origin=request.headers.get("origin"), address=client_address(request)
    )
    return Response(status_code=204)


@router.get("/visitors/{visitor_id}/events")
async def list_visitor_events(
    visitor_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    type: str | None = None,
    before: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=tracking.MAX_PAGE),
) -> dict[str, Any]:
    events, next_before = await tracking.list_visitor_events(
        svc,
        agent,
        visitor_id,
        types=tracking.check_types(type),
        before=before,
        limit=limit,
    )
    return {"events": events, "next_before": next_before}


@router.get("/events")
async def list_events(
    agent: AgentDep,
    svc: ServicesDep,
    type: str | None = None,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    before: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=tracking.MAX_PAGE),
) -> dict[str, Any]:
    events, next_before = await tracking.list_store_events(
        svc,
        agent,
        types=tracking.check_types(type),
        since=_time(from_, "from"),
        until=_time(to, "to"),
        before=before,
        limit=limit,
    )
    return {"events": events, "next_before": next_before}


def _time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise field_error(
            field, f"{field} is a time in ISO 8601, like 2026-12-01T00:00:00Z."
        ) from None
    if at.tzinfo is None:
        raise field_error(field, f"{field} needs its time zone, like 2026-12-01T00:00:00Z.")
    return at


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = BeaconTooLarge(f"A beacon has at most {limit} bytes; nothing was stored.")
    return await read_body(request, limit, too_large)
