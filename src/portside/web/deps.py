"""Request dependencies: the services, the logged-in agent, the CSRF check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from portside.errors import PortsideError
from portside.services.auth import check_csrf, check_session
from portside.services.context import Services
from portside.services.identity import AgentIdentity

SESSION_COOKIE = "portside_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def current_agent(request: Request) -> AgentIdentity:
    """The agent whose session cookie came with the request; changes also need CSRF."""
    agent = await check_session(get_services(request), request.cookies.get(SESSION_COOKIE))
    if request.method not in _SAFE_METHODS:
        check_csrf(agent, request.headers.get(CSRF_HEADER))
    return agent


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_body(request: Request, limit: int, too_large: PortsideError) -> bytes:
    """The raw body, refused with `too_large` as soon as it passes `limit` bytes: by its
    declared length before anything is read, else while it streams, so a large or
    endless body is never all in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


ServicesDep = Annotated[Services, Depends(get_services)]
AgentDep = Annotated[AgentIdentity, Depends(current_agent)]
