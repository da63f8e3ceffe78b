"""Order webhooks from a store's shop (docs/orders.md): Shopify's, and Portside's own
JSON for any other platform.

No session and no CSRF token: the signature over the raw body, with the store's secret,
is the credential. The body is read as it came, no further than the size limit, and
checked before anything is parsed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from portside.errors import PayloadTooLarge, UnsupportedMediaType
from portside.services.context import Services
from portside.services.orders_in import Delivery, check_sender, do_take_delivery
from portside.web.deps import ServicesDep, client_address, read_body

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("/shopify/{widget_key}")
async def shopify_order(
    widget_key: str, request: Request, response: Response, svc: ServicesDep
) -> dict[str, Any]:
    delivery = Delivery(
        source="shopify",
        widget_key=widget_key,
        topic=request.headers.get("x-shopify-topic", "").strip() or None,
        delivery_id=request.headers.get("x-shopify-webhook-id"),
        signature=request.headers.get("x-shopify-hmac-sha256"),
        body=await _read_body(request, svc),
        address=client_address(request),
    )
    return await _take(svc, delivery, response)


@router.post("/orders/{widget_key}")
async def generic_order(
    widget_key: str, request: Request, response: Response, svc: ServicesDep
) -> dict[str, Any]:
    delivery = Delivery(
        source="api",
        widget_key=widget_key,
        delivery_id=request.headers.get("x-portside-delivery"),
        signature=request.headers.get("x-portside-signature"),
        body=await _read_body(request, svc),
        address=client_address(request),
    )
    return await _take(svc, delivery, response)


async def _take(svc: Services, delivery: Delivery, response: Response) -> dict[str, Any]:
    taken = await do_take_delivery(svc, delivery)
    # 201 when this delivery stored something; 200 for one taken before, or ignored.
    response.status_code = 201 if taken.order is not None else 200
    return taken.to_dict()


async def _read_body(request: Request, svc: Services) -> bytes:
    """The raw body, once the sender is within its rate limit."""
    await check_sender(svc, client_address(request))
    limit = svc.settings.limits.webhook_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType(
            f"Post the order as application/json, not {content_type or 'no Content-Type'}."
        )
    too_large = PayloadTooLarge(
        f"This webhook is larger than {limit} bytes, the most this server takes "
        "(PORTSIDE_WEBHOOK_BYTES); nothing was stored."
    )
    return await read_body(request, limit, too_large)
