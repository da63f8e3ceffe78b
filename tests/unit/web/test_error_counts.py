"""Every HTTP error answered through the error handlers is counted by its code."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from portside.errors import NotFound
from portside.node_metrics import NodeMetrics
from portside.web.errors import install_error_handlers


class Body(BaseModel):
    name: str


def app_with_faults() -> tuple[FastAPI, NodeMetrics]:
    app = FastAPI()
    metrics = NodeMetrics()
    app.state.metrics = metrics
    install_error_handlers(app)

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("This conversation does not exist.")

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @app.post("/named")
    async def named(body: Body) -> dict[str, str]:
        return {"name": body.name}

    return app, metrics


def errors(metrics: NodeMetrics) -> dict[str, float]:
    return {
        f"{s.labels['kind']}:{s.labels['code']}": s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
        if s.name == "portside_errors_total"
    }


async def test_http_errors_are_counted_by_code_and_a_fault_is_internal_error() -> None:
    app, metrics = app_with_faults()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/missing")).status_code == 404
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.post("/named", json={})).status_code == 400
        broken = await client.get("/broken")
        ok = await client.post("/named", json={"name": "Mei"})

    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == "internal_error"
    assert "a bug" not in broken.text
    assert ok.status_code == 200
    assert errors(metrics) == {
        "http:not_found": 2,
        "http:invalid_request": 1,
        "http:internal_error": 1,
    }
