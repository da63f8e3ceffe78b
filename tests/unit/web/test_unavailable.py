"""A backing service that is down for a moment is a 503 with Retry-After (an error
frame with retry_after on a socket); one that is missing for good says no time."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from portside.errors import ServiceUnavailable
from portside.node_metrics import NodeMetrics
from portside.realtime.protocol import error_frame
from portside.web.errors import install_error_handlers


def app_with_outages() -> FastAPI:
    app = FastAPI()
    app.state.metrics = NodeMetrics()
    install_error_handlers(app)

    @app.get("/restarting")
    async def restarting() -> None:
        raise ServiceUnavailable("The database is unreachable; try again shortly.", retry_after=2)

    @app.get("/missing")
    async def missing() -> None:
        raise ServiceUnavailable("This server takes no attachments.")

    return app


async def test_a_passing_outage_says_when_to_try_again_and_a_lasting_one_does_not() -> None:
    transport = httpx.ASGITransport(app=app_with_outages())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        restarting = await client.get("/restarting")
        missing = await client.get("/missing")
    assert restarting.status_code == 503
    assert restarting.headers["Retry-After"] == "2"
    assert restarting.json() == {
        "error": {
            "code": "unavailable",
            "message": "The database is unreachable; try again shortly.",
        }
    }
    assert missing.status_code == 503
    assert "Retry-After" not in missing.headers


def test_the_error_frame_carries_retry_after_when_there_is_one() -> None:
    frame = error_frame(ServiceUnavailable("down", retry_after=2), ref="c-1")
    assert (frame["code"], frame["ref"], frame["retry_after"]) == ("unavailable", "c-1", 2)
    assert "retry_after" not in error_frame(ServiceUnavailable("none here"))
