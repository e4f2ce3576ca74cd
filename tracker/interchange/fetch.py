"""Fetching over HTTP (a published calendar, a query's results): conditionally, within a
size and a time.

A calendar is fetched with the ``ETag`` and ``Last-Modified`` it last came with, so an
unchanged one costs a 304 and no body. The whole exchange (connecting, the headers, every
redirect, the body) has one deadline: a watchdog shuts the socket when it passes, so a
server that drips bytes cannot hold the poller past it. A body over the limit is refused
as soon as it is known to be (its ``Content-Length``, else the bytes read), never kept.

Only the standard library: the exchange is one GET, and ``http.client`` hands us the
socket the deadline needs.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 30.0
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = "tracker-calendar-poller/1"
CALENDARS = "text/calendar, */*"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """The calendar could not be had; the message says why in one line."""


@dataclass(frozen=True)
class Fetched:
    """A calendar's bytes (None: not modified since the validators given) and the
    validators to send next time."""

    data: bytes | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.data is None


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_SECONDS,
    accept: str = CALENDARS,
    user_agent: str = USER_AGENT,
) -> Fetched:
    """GET ``url`` (following up to :data:`MAX_REDIRECTS` redirects) within ``timeout``
    seconds in all; :class:`FetchError` for anything but a 200 or 304 within the limits."""
    headers = {"User-Agent": user_agent, "Accept": accept}
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        try:
            exchange = _Exchange(url, deadline, timeout)
        except ValueError as exc:  # a port that is no number, a host idna refuses
            raise FetchError(f"not a valid URL: {url[:200]} ({exc})") from None
        try:
            status, location, fetched = exchange.get(headers, etag, last_modified, max_bytes)
        finally:
            exchange.close()
        if location is None:
            assert fetched is not None
            return fetched
        url = urljoin(url, location)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects (the last a {status})")


class _Exchange:
    """One request and its response on a connection of its own, under the deadline."""

    def __init__(self, url: str, deadline: float, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url[:200]}")
        self.deadline, self.timeout = deadline, timeout
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.connection: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context()
            self.connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=self._left(), context=context
            )
        else:
            self.connection = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=self._left()
            )
        self.watchdog: threading.Timer | None = None
        self.expired = threading.Event()

    def get(
        self, sent: dict[str, str], etag: str | None, last_modified: str | None, max_bytes: int
    ) -> tuple[int, str | None, Fetched | None]:
        """(status, a redirect's Location, else what was fetched)."""
        headers = dict(sent)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            self.connection.connect()
            self._watch()
            self.connection.request("GET", self.target, headers=headers)
            response = self.connection.getresponse()
            status = response.status
            if status in _REDIRECTS and response.getheader("Location"):
                return status, response.getheader("Location"), None
            validators = response.getheader("ETag"), response.getheader("Last-Modified")
            if status == 304:
                # A 304 need not repeat the validators: those sent stay good.
                kept = validators[0] or etag, validators[1] or last_modified
                return status, None, Fetched(None, *kept)
            if status != 200:
                raise FetchError(f"HTTP {status} {response.reason}".strip())
            return status, None, Fetched(self._body(response, max_bytes), *validators)
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(f"timed out after {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            if self.expired.is_set():
                raise FetchError(f"timed out after {self.timeout:g} s") from None
            raise FetchError(_reason(exc)) from None

    def _body(self, response: http.client.HTTPResponse, max_bytes: int) -> bytes:
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"body of {int(declared)} bytes is over the {max_bytes} limit")
        chunks, size = [], 0
        while chunk := response.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"body over the {max_bytes} byte limit")
            if self.expired.is_set():
                raise FetchError(f"timed out after {self.timeout:g} s")
            chunks.append(chunk)
        if self.expired.is_set():  # the watchdog cut it short: what came is not all of it
            raise FetchError(f"timed out after {self.timeout:g} s")
        return b"".join(chunks)

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"timed out after {self.timeout:g} s")
        return left

    def _watch(self) -> None:
        """Shut the socket at the deadline: a read in progress returns then, whatever
        the server is dripping."""
        self.watchdog = threading.Timer(self._left(), self._expire)
        self.watchdog.daemon = True
        self.watchdog.start()

    def _expire(self) -> None:
        self.expired.set()
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.connection.close()


def _reason(exc: BaseException) -> str:
    """An OS or HTTP error in a few words: 'name or service not known', 'connection
    refused', a certificate's complaint."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host: {exc.strerror or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    said = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {said}"[:300]
