"""Analytics over REST: a store's headline numbers, and each report as JSON or CSV."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from portside.services import analytics
from portside.web.deps import AgentDep, ServicesDep

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

CSV_SUFFIX = ".csv"


@router.get("/overview")
async def get_overview(
    agent: AgentDep,
    svc: ServicesDep,
    start: str | None = Query(None, alias="from", max_length=32),
    end: str | None = Query(None, alias="to", max_length=32),
) -> dict[str, Any]:
    return await analytics.get_overview(svc, agent, start=start, end=end)


@router.get("/{report}", response_model=None)
async def get_report(
    report: str,
    agent: AgentDep,
    svc: ServicesDep,
    start: str | None = Query(None, alias="from", max_length=32),
    end: str | None = Query(None, alias="to", max_length=32),
    by: str | None = Query(None, max_length=32),
) -> dict[str, Any] | Response:
    as_csv = report.endswith(CSV_SUFFIX)
    name = report.removesuffix(CSV_SUFFIX)
    result = await analytics.get_report(svc, agent, name, start=start, end=end, by=by)
    if not as_csv:
        return result
    filename = f"portside-{name}-by-{result['by']}-{result['from']}-{result['to']}.csv"
    return Response(
        analytics.report_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
