"""The pages' Content-Security-Policy: Portside's own origin, and the S3 bucket's for
photos and voice notes when the files are kept there."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portside.web.security import SecurityHeaders, content_security_policy

BUCKET = "https://shop-files.s3.eu-west-1.amazonaws.com"


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        found[name] = sources
    return found


def test_with_local_files_photos_and_voice_notes_come_from_portside_only() -> None:
    policy = directives(content_security_policy())
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["media-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "ws:", "wss:"]


def test_with_s3_the_buckets_origin_may_serve_photos_and_voice_notes() -> None:
    policy = directives(content_security_policy([BUCKET]))
    assert policy["img-src"] == ["'self'", "data:", BUCKET]
    assert policy["media-src"] == ["'self'", BUCKET]
    # Nothing else is opened to it: no scripts, no fetches, no frames.
    for name in ("default-src", "script-src", "style-src", "connect-src", "frame-ancestors"):
        assert BUCKET not in policy[name], name


def _page(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def test_every_response_carries_the_policy_it_was_given() -> None:
    app = SecurityHeaders(Starlette(routes=[Route("/", _page)]), file_origins=[BUCKET])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portside") as client:
        answer = await client.get("/")
    assert answer.headers["content-security-policy"] == content_security_policy([BUCKET])
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
