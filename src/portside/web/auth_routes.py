"""Logging in and out of the console."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from portside.services.auth import do_login, do_logout_everywhere
from portside.web.deps import SESSION_COOKIE, AgentDep, ServicesDep, client_address

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginBody(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


@router.post("/login")
async def login(
    body: LoginBody, request: Request, response: Response, svc: ServicesDep
) -> dict[str, Any]:
    agent, cookie = await do_login(
        svc, email=body.email, password=body.password, address=client_address(request)
    )
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=svc.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {"agent": agent.to_dict(), "csrf_token": agent.csrf_token}


@router.post("/logout")
async def logout(
    request: Request, response: Response, agent: AgentDep, svc: ServicesDep
) -> dict[str, Any]:
    """Ends every session of this agent, on every device."""
    await do_logout_everywhere(svc, agent)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return {"ok": True}


@router.get("/me")
async def me(agent: AgentDep) -> dict[str, Any]:
    return {"agent": agent.to_dict(), "csrf_token": agent.csrf_token}
