"""Coupon pools and their codes over REST (docs/api.md, "Coupons")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from portside.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from portside.services import coupon_codes, coupons
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1/coupon-pools", tags=["coupons"])

IMPORT_BYTES = 5 * 1024 * 1024
IMPORT_TYPES = ("text/csv", "text/plain")


# Fields are checked by the service, which names the one that is wrong.
class PoolBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Any = None
    description: Any = None
    pattern: Any = None
    expires_at: Any = None
    per_visitor_limit: Any = None


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: Any = None


@router.get("")
async def list_pools(agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return {"coupon_pools": await coupons.list_pools(svc, agent)}


@router.post("", status_code=201)
async def create_pool(body: PoolBody, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await coupons.do_create_pool(svc, agent, body.model_dump(exclude_unset=True))


@router.get("/{pool_id}")
async def get_pool(pool_id: int, agent: AgentDep, svc: ServicesDep) -> dict[str, Any]:
    return await coupons.get_pool(svc, agent, pool_id)


@router.patch("/{pool_id}")
async def update_pool(
    pool_id: int, body: PoolBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await coupons.do_update_pool(svc, agent, pool_id, body.model_dump(exclude_unset=True))


@router.delete("/{pool_id}", status_code=204)
async def delete_pool(pool_id: int, agent: AgentDep, svc: ServicesDep) -> Response:
    await coupons.do_delete_pool(svc, agent, pool_id)
    return Response(status_code=204)


@router.post("/{pool_id}/generate", status_code=201)
async def generate_codes(
    pool_id: int, body: GenerateBody, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    return await coupon_codes.do_generate_codes(svc, agent, pool_id, body.count)


@router.post("/{pool_id}/import", status_code=201)
async def import_codes(
    pool_id: int, request: Request, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    coupons.check_manager(agent)
    text = await _read_csv(request)
    return await coupon_codes.do_import_codes(svc, agent, pool_id, text)


@router.get("/{pool_id}/codes")
async def list_codes(
    pool_id: int,
    agent: AgentDep,
    svc: ServicesDep,
    status: str | None = Query(None, max_length=16),
    limit: int = 100,
    after: int | None = None,
) -> dict[str, Any]:
    return await coupon_codes.list_codes(
        svc, agent, pool_id, status=status, limit=limit, after=after
    )


async def _read_csv(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in IMPORT_TYPES:
        raise UnsupportedMediaType(
            f"Post the codes as text/csv, one code a line, not {content_type or 'no Content-Type'}."
        )
    too_large = PayloadTooLarge(
        f"The file is larger than {IMPORT_BYTES // (1024 * 1024)} MB, the most an import "
        "takes; split it. Nothing was imported."
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > IMPORT_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > IMPORT_BYTES:
            raise too_large
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The file is not UTF-8 text; save it as UTF-8 CSV.") from None
