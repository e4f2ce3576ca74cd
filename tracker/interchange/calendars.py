"""Calendars organisations publish, registered to be polled: adding and removing them,
listing them with how their polls went, and those whose last poll failed (for `tracker
alerts status` and /healthz). Polling them is :mod:`tracker.interchange.poller`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import editing, queries
from tracker.catalog.history import source_for_url
from tracker.errors import InvalidInput, NotFound
from tracker.interchange.models import POLL_EVERY_SECONDS, CalendarFeed

MIN_EVERY = timedelta(hours=1)
MAX_EVERY = timedelta(days=30)


def register(
    session: Session,
    url: str,
    *,
    now: datetime,
    treaty: str | None = None,
    body: str | None = None,
    every: str | None = None,
    grade: str | None = None,
) -> CalendarFeed:
    """Register a calendar to poll, due at once; its imports cite the source with its
    URL (made, graded ``grade``, when new). Validates everything before writing."""
    url = text.url(url, "calendar URL")
    try:
        urlsplit(url).port  # noqa: B018  (a port that is no number raises)
    except ValueError:
        raise InvalidInput(f"calendar URL {url[:80]!r}: its port is not a number") from None
    period = _every(every)
    treaty_row = queries.treaty(session, treaty) if treaty else None
    forum = editing.read_body(body) if body else None
    if session.scalar(select(CalendarFeed.id).where(CalendarFeed.url == url)) is not None:
        raise InvalidInput(f"calendar {url} is registered already (see `tracker source calendars`)")
    source = source_for_url(session, url, grade)
    assert source is not None  # a URL was given
    feed = CalendarFeed(
        url=url,
        treaty=treaty_row,
        body=forum,
        source=source,
        every_seconds=int(period.total_seconds()),
        next_check_at=now,
        failures=0,
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return feed


def _every(value: str | None) -> timedelta:
    if value is None:
        return timedelta(seconds=POLL_EVERY_SECONDS)
    try:
        period = dates.parse_duration(value)
    except InvalidInput:
        period = timedelta(0)
    if not MIN_EVERY <= period <= MAX_EVERY:
        raise InvalidInput(f"--every {value!r}: expected from 1h to 30d, e.g. 6h or 2d")
    return period


def _period(seconds: int) -> str:
    """How often, as --every takes it: ``6h``, ``2d``, ``36h``."""
    hours, rest = divmod(seconds, 3600)
    if rest:
        return f"{seconds}s"
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def unregister(session: Session, url: str) -> CalendarFeed:
    """Stop polling a calendar; what it imported and its source stay."""
    feed = find(session, url)
    session.delete(feed)
    return feed


def find(session: Session, url: str) -> CalendarFeed:
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.url == url.strip()))
    if feed is None:
        raise NotFound(f"no calendar {url!r} is registered (see `tracker source calendars`)")
    return feed


def calendars(session: Session) -> list[CalendarFeed]:
    return list(session.scalars(select(CalendarFeed).order_by(CalendarFeed.url)))


def as_dict(feed: CalendarFeed) -> dict[str, Any]:
    return {
        "url": feed.url,
        "treaty": feed.treaty.slug if feed.treaty else None,
        "body": feed.body,
        "source": feed.source.key,
        "grade": feed.source.grade,
        "every": _period(feed.every_seconds),
        "checked_at": _iso(feed.checked_at),
        "last_ok_at": _iso(feed.last_ok_at),
        "next_check_at": _iso(feed.next_check_at),
        "failures": feed.failures,
        "last_error": feed.last_error,
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@dataclass(frozen=True)
class Failing:
    url: str
    failures: int
    last_error: str | None
    checked_at: datetime | None
    last_ok_at: datetime | None

    def problem(self) -> str:
        return f"calendar {self.url} failing ({self.failures} in a row): {self.last_error}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "failures": self.failures,
            "last_error": self.last_error,
            "checked_at": _iso(self.checked_at),
            "last_ok_at": _iso(self.last_ok_at),
        }


def failing(connection: Connection) -> list[Failing]:
    """Calendars whose last poll failed (for `tracker alerts status` and /healthz)."""
    table = CalendarFeed.__table__
    rows = connection.execute(
        select(
            table.c.url,
            table.c.failures,
            table.c.last_error,
            table.c.checked_at,
            table.c.last_ok_at,
        )
        .where(table.c.failures > 0)
        .order_by(table.c.url)
    )
    return [Failing(*row) for row in rows]
