"""Security headers on every response, whichever route (or error handler) made it.

The pages carry no script at all, so scripts are refused outright. Their styles are
``<style>`` blocks in the templates, so ``style-src`` allows inline styles: that lets a
page restyle itself but not run anything, and nothing a reader submits is put in a style.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'none'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),  # frame-ancestors for browsers that predate it
)


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to each HTTP response start,
    unless a route set one of them itself."""

    def __init__(self, app: ASGIApp, headers: Iterable[tuple[str, str]] = SECURITY_HEADERS):
        self.app = app
        self.headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
