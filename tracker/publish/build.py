"""Publishing the feeds: every publisher's files (``feed.xml``, ``calendar.ics``, …) and the board.

Used by ``tracker feed build``, ``tracker serve`` and the daemon after every change or
fired alert. A build reads what the feeds show (the news entries: :mod:`.entries`; the
calendars' items: :mod:`.calendar_items`), hands it to each publisher plugin (``rss``,
``ics``: :mod:`tracker.notifiers`), and writes the files it returns. Each publisher's
files, and the board, are a part; a part whose inputs did not change since it was last
built is not rendered at all (see :mod:`tracker.publish.state`), and of a part that is,
each file is rewritten only when its content changed.

What the files hold is bounded whatever the size of the database: the feeds the newest
``max_entries`` entries (a treaty's feed: its share of those), the calendars the items
of the last year and the nearest ahead, the board the nearest cards and marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog.treaties import Treaty
from tracker.dates import zone
from tracker.files import write_changed
from tracker.notifiers.feeds import EVERYTHING, FeedTreaty, Publication
from tracker.publish import state
from tracker.publish.narrowing import narrowed
from tracker.views.filters import EVERYTHING as EVERYTHING_SHOWN
from tracker.views.filters import BoardFilter

if TYPE_CHECKING:
    from tracker.notifiers.base import Publisher
    from tracker.settings import Settings

BOARD = "board"


@dataclass
class BuildReport:
    """What a build did: files written, files left as they were, parts rendered."""

    directory: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)  # parts rendered; the others skipped

    def write(self, contents: dict[Path, bytes]) -> None:
        written = write_changed(contents)
        self.written += written
        self.unchanged += [path for path in contents if path not in written]


def installed_publishers(settings: Settings) -> list[Publisher]:
    """The configured publisher plugins (``rss``, ``ics`` and any third party's)."""
    from tracker.notifiers.registry import load_notifiers

    return load_notifiers(settings).publishers


def _shows(publisher: Publisher) -> frozenset[str]:
    return frozenset(getattr(publisher, "shows", EVERYTHING))


def _today(settings: Settings, as_of: datetime) -> datetime:
    """The start of the day ``as_of`` falls on, in the tracker's zone."""
    local = zone(settings.timezone)
    return datetime.combine(as_of.astimezone(local).date(), datetime.min.time(), local)


def _publication(
    session: Session,
    settings: Settings,
    shows: frozenset[str],
    alarm_leads: Sequence[timedelta],
    as_of: datetime,
    precise: bool = False,
    known_at: datetime | None = None,
) -> Publication:
    """What the parts to render show, read once for all of them (``precise``: calendars of
    dates fixed to a week only; ``known_at``: as then known)."""
    from tracker.publish.calendar_items import calendar_items
    from tracker.publish.entries import feed_entries
    from tracker.views.knowledge import load

    feeds = settings.feeds
    known = load(session, known_at)
    treaties = session.execute(
        select(Treaty.slug, Treaty.name, Treaty.short_name).order_by(Treaty.slug)
    )
    return Publication(
        title=feeds.title,
        base_url=feeds.base_url,
        treaties=[FeedTreaty(t.slug, t.name, t.short_name) for t in treaties],
        entries=(
            feed_entries(session, feeds.base_url, feeds.max_entries, as_of, known)
            if "entries" in shows
            else ()
        ),
        items=(
            calendar_items(session, as_of, _today(settings, as_of).date(), known)
            if "items" in shows
            else ()
        ),
        alarm_leads=alarm_leads,
        precise=precise,
    )


def _aged(settings: Settings, publication: Publication, as_of: datetime) -> datetime:
    """Until when the calendars of ``publication`` stay the same: which items they hold
    depends on the day (the next midnight may change it); what they say of an item's
    state, on the next instant a window opens or closes."""
    from tracker.publish.calendar_items import next_state_change

    tomorrow = _today(settings, as_of) + timedelta(days=1)
    changes = next_state_change(publication.items, as_of)
    return min(tomorrow, changes) if changes is not None else tomorrow


def feed_files(
    session: Session,
    settings: Settings,
    publishers: Sequence[Publisher],
    *,
    alarm_leads: Sequence[timedelta] = (),
    as_of: datetime,
    precise: bool = False,
    only: BoardFilter = EVERYTHING_SHOWN,
    known_at: datetime | None = None,
) -> tuple[dict[str, bytes], datetime | None]:
    """Every file of ``publishers`` (named as in the feed directory), rendered now as a
    build would write them, and the instant until which they stay the same for the same
    rows (None: until the rows change). For serving them live; ``precise``: the calendars
    without the markers of dates not fixed to a week (``?precise=1``); ``known_at``: as the
    catalogue was then known (``?known_at=``)."""
    needed = frozenset[str]().union(*(_shows(p) for p in publishers))
    publication = _publication(session, settings, needed, alarm_leads, as_of, precise, known_at)
    # A board's view (``?treaty=&kind=&confidence=``): what it keeps of the items and news.
    publication = narrowed(session, publication, only)
    files: dict[str, bytes] = {}
    for publisher in publishers:
        files.update(publisher.publish(publication))
    return files, (_aged(settings, publication, as_of) if "items" in needed else None)


def _settings_shown(settings: Settings, alarm_leads: Sequence[timedelta]) -> dict[str, Any]:
    return {
        "feeds": settings.feeds.model_dump(mode="json"),
        "timezone": settings.timezone,
        "alarm_leads": [lead.total_seconds() for lead in alarm_leads],
    }


def build_feeds(
    session: Session,
    settings: Settings,
    out: Path | None = None,
    *,
    publishers: Sequence[Publisher] | None = None,
    alarm_leads: Sequence[timedelta] = (),
    as_of: datetime,
) -> BuildReport:
    """Write every publisher's files and the board into ``out`` (default: the feed
    directory), rendering only the parts whose inputs changed since they were last built
    there. ``publishers``: those to publish with (default: the installed ones)."""
    from tracker.views.page import board_page

    report = BuildReport(out or settings.feed_dir)
    directory = report.directory
    chosen = installed_publishers(settings) if publishers is None else publishers
    previous = state.load(directory)
    found = state.signatures(session)
    shown = _settings_shown(settings, alarm_leads)
    stale: dict[str, str] = {}
    for part, shows in [(p.name, _shows(p)) for p in chosen] + [(BOARD, frozenset((BOARD,)))]:
        key = state.part_key(part, shows, found, shown)
        recorded = previous.get(part)
        if recorded is not None and recorded.fresh(key, as_of, directory):
            report.unchanged.extend(directory / name for name in recorded.files)
        else:
            stale[part] = key
    rendered: dict[str, tuple[dict[Path, bytes], datetime | None]] = {}
    todo = [p for p in chosen if p.name in stale]
    if todo:
        needed = frozenset().union(*(_shows(p) for p in todo))
        publication = _publication(session, settings, needed, alarm_leads, as_of)
        aged = _aged(settings, publication, as_of)
        for publisher in todo:
            laid_out = publisher.publish(publication)
            until = aged if "items" in _shows(publisher) else None
            rendered[publisher.name] = ({directory / n: c for n, c in laid_out.items()}, until)
    if BOARD in stale:
        html, valid_until = board_page(session, settings, as_of)
        rendered[BOARD] = ({directory / "index.html": html}, valid_until)
    # All files at once: one wait for the disk, and a failure leaves every old file whole.
    report.write(
        {path: content for files, _ in rendered.values() for path, content in files.items()}
    )
    current = dict(previous)
    for part, (written, until) in rendered.items():
        report.rendered.append(part)
        current[part] = state.PartState(
            stale[part], as_of, until, state.recorded(directory, written)
        )
    if report.rendered:
        state.save(directory, current)
    return report
