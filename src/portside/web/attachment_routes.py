"""Attachments over HTTP (docs/attachments.md): uploads, their URLs, and the files.

The widget authenticates with `Authorization: Bearer <visitor token>` and names its
store with `?store=<widget key>`; its Origin must be one the store allows, and the
answers carry the CORS headers that let the store's page read them. The console uses
its session (and CSRF token for the upload).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from portside.domain.media import MB, UploadTooLarge
from portside.errors import PortsideError
from portside.services.attachment_files import get_attachment_urls, read_signed_file
from portside.services.attachments import (
    Sender,
    check_upload_rate,
    check_widget_sender,
    do_upload,
    get_limits,
)
from portside.services.catalog import find_store_by_key
from portside.services.context import Services
from portside.web.deps import ServicesDep, client_address, current_agent, read_body
from portside.web.errors import error_response

router = APIRouter(tags=["attachments"])

_CORS_HEADERS = "Authorization, Content-Type, X-Filename"


async def _sender(request: Request, svc: Services) -> tuple[int, Sender, bool]:
    """The store and sender of a request, and whether it came from the widget."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        origin = request.headers.get("origin")
        if origin is None and request.headers.get("sec-fetch-site") == "same-origin":
            # A browser sends no Origin on a same-origin GET (a store's pages served by
            # this Portside, as the demo's): the page's origin is then this server's.
            origin = f"{request.url.scheme}://{request.url.netloc}"
        store_id, sender = await check_widget_sender(
            svc,
            store_key=request.query_params.get("store"),
            origin=origin,
            token=auth[7:].strip(),
        )
        return store_id, sender, True
    agent = await current_agent(request)
    return agent.store_id, Sender(agent_id=agent.id), False


async def _answer(
    request: Request, call: Callable[[], Awaitable[tuple[dict[str, Any], int]]]
) -> JSONResponse:
    """The JSON answer, errors included, readable by the widget's page: its Origin
    is echoed once the store is known to allow it (the call checked it)."""
    origin = request.headers.get("origin")
    try:
        body, status = await call()
        response = JSONResponse(body, status_code=status)
    except PortsideError as exc:
        response = error_response(exc)
        if exc.code in ("origin_not_allowed", "unknown_store"):
            return response
    if origin and request.headers.get("authorization", "")[:7].lower() == "bearer ":
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@router.options("/api/v1/uploads")
@router.options("/api/v1/attachments/{attachment_id}/url")
async def preflight(request: Request, svc: ServicesDep) -> Response:
    """CORS preflight for the widget: allowed for the store's own origins only."""
    store = await find_store_by_key(svc, request.query_params.get("store") or "")
    origin = request.headers.get("origin")
    if store is None or origin is None or origin not in store.allowed_origins:
        return Response(status_code=403)
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": _CORS_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


@router.post("/api/v1/uploads")
async def upload(request: Request, svc: ServicesDep) -> JSONResponse:
    """One file as the raw request body (any Content-Type: the bytes decide), its name
    in `X-Filename` (percent-encoded UTF-8). Answers 201 with the attachment."""

    async def call() -> tuple[dict[str, Any], int]:
        store_id, sender, _widget = await _sender(request, svc)
        await check_upload_rate(svc, sender, client_address(request))
        limits = await get_limits(svc, store_id)
        data = await _read_body(request, limits.largest_bytes)
        name = request.headers.get("x-filename")
        attachment = await do_upload(
            svc,
            store_id=store_id,
            sender=sender,
            data=data,
            filename=unquote(name) if name else None,
            limits=limits,
        )
        return attachment, 201

    return await _answer(request, call)


@router.get("/api/v1/attachments/{attachment_id}/url")
async def attachment_url(attachment_id: int, request: Request, svc: ServicesDep) -> JSONResponse:
    async def call() -> tuple[dict[str, Any], int]:
        store_id, sender, _widget = await _sender(request, svc)
        base = svc.settings.public_url or str(request.base_url)
        return await get_attachment_urls(svc, store_id, attachment_id, sender, base), 200

    return await _answer(request, call)


@router.get("/files/{attachment_id}/{variant}/{expires}/{signature}")
async def signed_file(
    attachment_id: int, variant: str, expires: int, signature: str, svc: ServicesDep
) -> Response:
    served = await read_signed_file(svc, attachment_id, variant, expires, signature)
    return Response(
        served.data,
        media_type=served.content_type,
        headers={
            "Content-Disposition": served.disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": f"private, max-age={served.max_age_s}",
            # Shown by the store's page (an <img> or <audio> on another origin).
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it passes `limit`: never all in memory."""
    too_large = UploadTooLarge(
        f"An upload to this store can have at most {limit // MB} MB; nothing was stored."
    )
    return await read_body(request, limit, too_large)
