"""A calendar served on 127.0.0.1 port 0 for the poller's tests: a mode says how the
server answers (the calendar with its ETag and 304s, a 500, a hold, 50 MB, junk)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FORUM = "IAEA Board of Governors"
CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example Agency//Meetings//EN\r
BEGIN:VEVENT\r
UID:board-2027-03@example.org\r
DTSTAMP:20261101T000000Z\r
SUMMARY:Board of Governors\r
DTSTART;VALUE=DATE:{start}\r
DTEND;VALUE=DATE:{end}\r
LOCATION:Vienna\r
END:VEVENT\r
END:VCALENDAR\r
"""
MARCH = CALENDAR.format(start="20270302", end="20270307").encode()
MOVED = CALENDAR.format(start="20270309", end="20270314").encode()
FIFTY_MB = 50 * 1024 * 1024


@dataclass
class Served:
    """What the server answers: ``mode`` and the calendar with its ETag."""

    mode: str = "calendar"
    calendar: bytes = MARCH
    etag: str = '"v1"'
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    served: Served

    def do_GET(self) -> None:
        served = self.served
        served.requests.append(dict(self.headers.items()))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the poller hung up
            getattr(self, f"answer_{served.mode.replace('-', '_')}")(served)

    def answer_calendar(self, served: Served) -> None:
        if self.headers.get("If-None-Match") == served.etag:
            self.send_response(304)
            self.send_header("ETag", served.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(served.calendar)))
        self.send_header("ETag", served.etag)
        self.end_headers()
        self.wfile.write(served.calendar)

    def answer_dated(self, served: Served) -> None:
        """No ETag: only a Last-Modified, and a 304 for it."""
        stamp = "Tue, 01 Dec 2026 10:00:00 GMT"
        if self.headers.get("If-Modified-Since") == stamp:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(served.calendar)))
        self.send_header("Last-Modified", stamp)
        self.end_headers()
        self.wfile.write(served.calendar)

    def answer_redirect(self, served: Served) -> None:
        if self.path == "/moved.ics":
            self.answer_calendar(served)
            return
        self.send_response(301)
        self.send_header("Location", "/moved.ics")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer_loop(self, served: Served) -> None:
        self.send_response(302)
        self.send_header("Location", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer_error(self, served: Served) -> None:
        self.send_error(500, "Internal Server Error")

    def answer_malformed(self, served: Served) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "20")
        self.end_headers()
        self.wfile.write(b"this is no calendar\n")

    def answer_hang(self, served: Served) -> None:
        """Headers and a few bytes, then nothing until the test ends."""
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"BEGIN:VCALENDAR\r\n")
        self.wfile.flush()
        served.release.wait(30)

    def answer_held(self, served: Served) -> None:
        """Nothing until the test lets it go, then the calendar."""
        served.release.wait(30)
        self.answer_calendar(served)

    def answer_huge(self, served: Served) -> None:
        self._fifty_mb(declared=True)

    def answer_huge_undeclared(self, served: Served) -> None:
        self._fifty_mb(declared=False)

    def _fifty_mb(self, declared: bool) -> None:
        self.send_response(200)
        if declared:
            self.send_header("Content-Length", str(FIFTY_MB))
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"X" * (1024 * 1024)
        for _ in range(FIFTY_MB // len(chunk)):
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(name="served")
def served_fixture() -> Iterator[Served]:
    yield Served()


@pytest.fixture(name="url")
def url_fixture(served: Served) -> Iterator[str]:
    """The served calendar's address (the server stops at the end of the test)."""
    handler = type("ServedHandler", (Handler,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/meetings.ics"
    served.release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)
