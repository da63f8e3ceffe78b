"""Every error leaves as `{"error": {"code", "message"}}` with a fitting status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from portside.errors import PortsideError
from portside.node_metrics import NodeMetrics

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def error_response(error: PortsideError) -> JSONResponse:
    headers = {}
    # Rate limits, and a database that is restarting: when to send the request again.
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, round(retry_after)))
    return JSONResponse({"error": error.to_dict()}, status_code=error.status, headers=headers)


def _count(request: Request, code: str) -> None:
    """Count the error for the operators' metrics (GET /metrics)."""
    metrics: NodeMetrics = request.app.state.metrics
    metrics.error("http", code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PortsideError)
    async def portside_error(request: Request, exc: PortsideError) -> JSONResponse:
        _count(request, exc.code)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        _count(request, "invalid_request")
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "problem": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        fields = ", ".join(d["field"] or "body" for d in details)
        message = f"The request is not valid: check {fields}."
        return JSONResponse(
            {"error": {"code": "invalid_request", "message": message, "details": details}},
            status_code=400,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        _count(request, code)
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            message = "There is nothing at this address."
        return JSONResponse(
            {"error": {"code": code, "message": message}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, _exc: Exception) -> JSONResponse:
        # A fault of ours, not the client's: the traceback goes to the log (Starlette
        # raises the exception again after this answer).
        _count(request, "internal_error")
        return JSONResponse(
            {"error": {"code": "internal_error", "message": "Something went wrong on our side."}},
            status_code=500,
        )
