"""Security headers on every HTTP response."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(file_origins: Sequence[str] = ()) -> str:
    """The pages' policy. `file_origins`: where attachments' signed URLs point when
    not at Portside itself (S3: the bucket's origin), so that photos and voice notes
    load in the console and the demo shop. The widget script is loaded by stores' own
    pages, from any origin, under their own policy (docs/widget.md)."""
    files = "".join(f" {origin}" for origin in file_origins)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{files}; media-src 'self'{files}; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, file_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", content_security_policy(file_origins).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
