"""Polling the registered calendars (:mod:`tracker.interchange.calendars`) due.

A poll of one calendar has three steps, none holding a transaction across the network:
it claims the row (moves ``next_check_at`` a lease ahead, compare-and-swap, so two pollers
never fetch one calendar at once and a crash retries it after the lease), fetches
conditionally within a size and a time (:mod:`tracker.interchange.fetch`), then imports
in one transaction through the catalogue's editing, so what changed goes into history,
change alerts and feeds as an edit would. A failure (the fetch, or a calendar the
importer refuses) is written on the row instead (``last_error``, ``failures`` in a row,
the next try backed off) and nothing else changes; a 304 is a success that imports
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import Clock
from tracker.db import transaction
from tracker.errors import InvalidInput
from tracker.interchange.fetch import TIMEOUT_SECONDS, Fetched, FetchError, fetch
from tracker.interchange.models import CalendarFeed

log = logging.getLogger("tracker.calendars")

# After a failure the next try comes sooner than the next poll would, then ever later:
# 15 min, 30 min, 1 h, ... up to a day (a broken server is not hammered).
RETRY_FIRST = timedelta(minutes=15)
RETRY_MOST = timedelta(days=1)
# How long a claimed calendar is left alone: a poll ends well within it (the fetch is
# bounded), so only a poller that died lets it run out.
CLAIM = timedelta(seconds=TIMEOUT_SECONDS * 4)


class Fetcher(Protocol):
    def __call__(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched: ...


@dataclass(frozen=True)
class Outcome:
    """What one poll of one calendar came to."""

    url: str
    ok: bool
    said: str  # "import: 1 added, ...", "not modified", or why it failed

    def line(self) -> str:
        return f"{self.url}: {self.said if self.ok else 'failed: ' + self.said}"


def poll_due(
    sessions: sessionmaker[Session],
    clock: Clock,
    *,
    fetcher: Fetcher = fetch,
    everything: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> list[Outcome]:
    """Poll each calendar due now (``everything``: each one), one after another; one
    indexed query when none is due."""
    now = clock.now()
    query = select(CalendarFeed.id).order_by(CalendarFeed.next_check_at)
    if not everything:
        query = query.where(CalendarFeed.next_check_at <= now)
    with sessions() as session:
        ids: Sequence[int] = session.scalars(query).all()
    outcomes = []
    for feed_id in ids:
        if stop():
            break
        outcome = poll(sessions, feed_id, clock, fetcher=fetcher, everything=everything)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def poll(
    sessions: sessionmaker[Session],
    feed_id: int,
    clock: Clock,
    *,
    fetcher: Fetcher = fetch,
    everything: bool = False,
) -> Outcome | None:
    """Claim, fetch and import one calendar; None when another poller has it (or it is
    gone, or no longer due)."""
    claimed = _claim(sessions, feed_id, clock.now(), everything)
    if claimed is None:
        return None
    url, etag, last_modified = claimed
    try:
        fetched = fetcher(url, etag=etag, last_modified=last_modified)
    except FetchError as exc:
        return _failed(sessions, feed_id, url, clock.now(), str(exc))
    except Exception as exc:  # not foreseen: still this calendar's failure, said and kept
        log.exception("fetching calendar %s failed", url)
        return _failed(sessions, feed_id, url, clock.now(), f"fetch failed: {exc!r}"[:300])
    now = clock.now()
    try:
        with transaction(sessions) as session:
            feed = session.get(CalendarFeed, feed_id)
            if feed is None:
                return None
            said = "not modified"
            if not fetched.not_modified:
                assert fetched.data is not None
                said = _import(session, feed, fetched.data, now)
            _succeeded(feed, fetched, now)
    except InvalidInput as exc:  # a calendar the importer refuses: nothing of it is kept
        return _failed(sessions, feed_id, url, now, str(exc))
    except Exception as exc:  # one calendar's trouble must not stop the others' polls
        log.exception("importing calendar %s failed", url)
        return _failed(sessions, feed_id, url, now, f"import failed: {type(exc).__name__}")
    return Outcome(url, True, said)


def _claim(
    sessions: sessionmaker[Session], feed_id: int, now: datetime, everything: bool
) -> tuple[str, str | None, str | None] | None:
    """Move the row's next check a lease ahead, if it is still as read: the URL and its
    validators, else None (taken by another poller, removed, or not due)."""
    with transaction(sessions) as session:
        row = session.execute(
            select(
                CalendarFeed.url,
                CalendarFeed.etag,
                CalendarFeed.last_modified,
                CalendarFeed.next_check_at,
            ).where(CalendarFeed.id == feed_id)
        ).first()
        if row is None:
            return None
        url, etag, last_modified, seen = row
        if not everything and seen is not None and seen > now:
            return None
        claimed = session.execute(
            update(CalendarFeed)
            .where(CalendarFeed.id == feed_id)
            .where(
                CalendarFeed.next_check_at.is_(None)
                if seen is None
                else CalendarFeed.next_check_at == seen
            )
            .values(next_check_at=now + CLAIM)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
    return url, etag, last_modified


def _import(session: Session, feed: CalendarFeed, data: bytes, now: datetime) -> str:
    from tracker.interchange.importing import import_calendar

    report = import_calendar(
        session,
        data,
        source=feed.source,
        now=now,
        treaty=feed.treaty,
        body=feed.body,
        origin="poll",
    )
    said = report.summary()
    if report.added or report.changed:
        log.info("calendar %s: %s", feed.url, said)
    return said


def _succeeded(feed: CalendarFeed, fetched: Fetched, now: datetime) -> None:
    """A poll that worked (a 304 too): the validators to send next time."""
    etag, last_modified = fetched.etag, fetched.last_modified
    # Kept only when they fit their columns (a server's header can be any length).
    feed.etag = etag if etag and len(etag) <= 500 else None
    feed.last_modified = last_modified if last_modified and len(last_modified) <= 100 else None
    feed.checked_at = feed.last_ok_at = now
    feed.failures = 0
    feed.last_error = None
    feed.next_check_at = now + timedelta(seconds=feed.every_seconds)


def _failed(
    sessions: sessionmaker[Session], feed_id: int, url: str, now: datetime, error: str
) -> Outcome:
    """Record a failed poll on the row (and only there), the next try backed off."""
    log.warning("calendar %s: %s", url, error)
    with transaction(sessions) as session:
        feed = session.get(CalendarFeed, feed_id)
        if feed is not None:
            feed.failures += 1
            feed.last_error = error[:2000]
            feed.checked_at = now
            feed.next_check_at = now + retry_after(feed.failures)
    return Outcome(url, False, error)


def retry_after(failures: int) -> timedelta:
    """The wait before the next try after ``failures`` failed polls in a row."""
    wait: timedelta = RETRY_FIRST * 2 ** min(failures - 1, 16)
    return min(wait, RETRY_MOST)
