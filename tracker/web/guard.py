"""Limits uvicorn lacks: a time limit on reading a request head, a cap on open connections
(past it a new connection is closed at once, not queued), a request body size limit, and a
log filter that says a repeated error once with a count.

uvicorn's keep-alive timer is cancelled by every byte received and only set again after a
response, so a client sending its headers one byte a second holds its connection for
ever; enough of them exhaust the process's file descriptors. :func:`guarded_protocol`
gives each connection a deadline for its request instead: from the moment it opens (or a
byte of the next request arrives) until h11 has read the whole request, its head and its
body (a few kilobytes at most: see BodyLimit), so a body dripped in holds it no longer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import h11
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("tracker.web")


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0  # seconds to send a whole request head
    max_connections: int = 1000  # open at once; past it, new ones are closed at once
    max_body_bytes: int = 64 * 1024  # the forms are a few hundred bytes


# What a client is still sending: its request's head, or its body.
_READING = (h11.IDLE, h11.SEND_BODY)


def guarded_protocol(limits: Limits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a header-read deadline and a connection cap."""

    class GuardedH11Protocol(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(  # type: ignore[override]
            self, transport: asyncio.Transport
        ) -> None:
            if len(self.connections) >= limits.max_connections:
                self._refused = True
                log.warning(
                    "refusing connections: %d open (server.max_connections)",
                    len(self.connections),
                )
                transport.abort()
                return
            super().connection_made(transport)
            self._await_head()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state in _READING and not self.transport.is_closing():
                if self._head_deadline is None:  # a byte of the next request came
                    self._await_head()
            else:  # the request is read (or the connection is over)
                self._cancel_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            self._cancel_deadline()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            self._cancel_deadline()
            self._head_deadline = self.loop.call_later(limits.header_timeout, self._head_too_slow)

        def _cancel_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if self.conn.their_state in _READING and not self.transport.is_closing():
                log.info("closed a connection whose request took over %gs", limits.header_timeout)
                self.transport.close()

    return GuardedH11Protocol


class BodyLimit:
    """ASGI middleware: a request body larger than the limit is refused (413) before the
    app reads it; a body of unknown length (chunked) must declare one (411)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            status = 0
            if length is None and b"transfer-encoding" in headers:
                status = 411
            elif length is not None and int(length) > self.max_body_bytes:
                status = 413  # h11 has checked it is a number
            if status:
                await refuse(send, status)
                return
        await self.app(scope, receive, send)


async def refuse(send: Send, status: int) -> None:
    body = {411: b"Length Required\n", 413: b"Request body too large\n"}[status]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Seen:
    since: float
    count: int = 0


@dataclass(eq=False)
class RepeatFilter(logging.Filter):
    """Lets a message through once per ``window`` seconds; the next one let through says
    how many identical ones were held back. A flood of identical errors (a full accept
    queue, file descriptors run out) so costs a line a minute, not gigabytes."""

    window: float = 60.0
    clock: Any = time.monotonic
    max_kept: int = 1000
    _seen: dict[tuple[Any, ...], _Seen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        key = (record.name, record.levelno, record.getMessage(), repr(failure))
        now = self.clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.since < self.window:
            seen.count += 1
            return False
        if len(self._seen) >= self.max_kept:
            self._seen.clear()
        self._seen[key] = _Seen(now)
        if seen is not None and seen.count:
            record.msg = (
                f"{record.getMessage()} (and {seen.count} more like it in {self.window:g} s)"
            )
            record.args = None
        return True
