"""Building every feed file: ``feed.xml``, ``atom.xml``, ``calendar.ics``, per treaty, the board.

Used by ``tracker feed build``, ``tracker serve`` and the daemon (directly, and through the
rss and ics notifiers) after every change or fired alert. The files fall into three parts
(``rss``, ``ics``, ``board``); a part whose inputs did not change since it was last built
is not rendered at all (see :mod:`tracker.publish.state`), and of a part that is, each file
is rewritten only when its content changed.

What the files hold is bounded whatever the size of the database: the feeds the newest
``max_entries`` events (a treaty's feed: its share of those), the calendars the items of
the last year and the nearest ahead (:mod:`tracker.publish.ics`), the board the nearest
cards and marks (:mod:`tracker.web.board`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog.treaties import Treaty
from tracker.dates import zone
from tracker.publish import state
from tracker.publish.events import feed_events
from tracker.publish.writer import write_changed

if TYPE_CHECKING:
    from tracker.settings import Settings

Kind = Literal["rss", "ics"]
KINDS: tuple[Kind, ...] = ("rss", "ics")


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


@dataclass(frozen=True)
class _Job:
    report: BuildReport
    session: Session
    settings: Settings
    treaties: Sequence[Treaty]
    alarm_leads: Sequence[timedelta]
    as_of: datetime


def _url(base: str, relative: str) -> str:
    return f"{base.rstrip('/')}/feed/{relative}"


def _build_rss(job: _Job) -> tuple[dict[Path, bytes], datetime | None]:
    from tracker.publish.rss import (
        FeedMeta,
        RenderedEntry,
        atom_document,
        render_entry,
        rss_document,
    )

    base, feeds, out = job.settings.feeds.base_url, job.settings.feeds, job.report.directory
    entries = [render_entry(e) for e in feed_events(job.session, base, feeds.max_entries)]
    meta = FeedMeta(
        title=feeds.title,
        description="Alerts, changes and new deadlines and meetings",
        home=base,
        rss_url=_url(base, "feed.xml"),
        atom_url=_url(base, "atom.xml"),
    )
    files = {
        out / "feed.xml": rss_document(meta, entries),
        out / "atom.xml": atom_document(meta, entries),
    }
    by_treaty: dict[str | None, list[RenderedEntry]] = {}
    for entry in entries:
        by_treaty.setdefault(entry.event.treaty_slug, []).append(entry)
    for treaty in job.treaties:
        relative = f"treaties/{treaty.slug}.xml"
        meta = FeedMeta(
            title=f"{feeds.title}: {treaty.name}",
            description=f"Alerts and changes for {treaty.name}",
            home=base,
            rss_url=_url(base, relative),
            atom_url=_url(base, f"treaties/{treaty.slug}.atom"),
        )
        files[out / relative] = rss_document(meta, by_treaty.get(treaty.slug, []))
    return files, None  # the feeds show no countdown: they do not age


def _build_ics(job: _Job) -> tuple[dict[Path, bytes], datetime | None]:
    from tracker.publish.calendar_items import calendar_items
    from tracker.publish.ics import (
        CalendarMeta,
        RenderedEvent,
        assemble,
        render_events,
        timezones,
    )

    feeds, out = job.settings.feeds, job.report.directory
    local = zone(job.settings.timezone)
    today = job.as_of.astimezone(local).date()
    items = calendar_items(job.session, today)
    meta = CalendarMeta(
        name=feeds.title,
        description="Deadlines and meetings of arms control treaties",
        base_url=feeds.base_url,
        alarm_leads=job.alarm_leads,
    )
    events = render_events(items, meta)
    zones = timezones(events)
    files = {out / "calendar.ics": assemble(meta, events, zones)}
    by_treaty: dict[int | None, list[RenderedEvent]] = {}
    for event in events:
        by_treaty.setdefault(event.treaty_id, []).append(event)
    for treaty in job.treaties:
        mine = CalendarMeta(
            name=f"{feeds.title}: {treaty.short_name or treaty.name}",
            description=f"Deadlines and meetings of {treaty.name}",
            base_url=feeds.base_url,
        )
        own = by_treaty.get(treaty.id, [])
        files[out / f"treaties/{treaty.slug}.ics"] = assemble(mine, own, zones)
    # Which items are in depends on the day: the next midnight may change it.
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), local)
    return files, tomorrow


def _build_board(job: _Job) -> tuple[dict[Path, bytes], datetime | None]:
    from tracker.web.board import board_page

    html, valid_until = board_page(job.session, job.settings, job.as_of)
    return {job.report.directory / "index.html": html}, valid_until


_BUILDERS = {"rss": _build_rss, "ics": _build_ics, "board": _build_board}


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
    kinds: Sequence[Kind] = KINDS,
    alarm_leads: Sequence[timedelta] = (),
    as_of: datetime,
) -> BuildReport:
    """Write the feeds of ``kinds`` and the board into ``out`` (default: the feed directory),
    rendering only the parts whose inputs changed since they were last built there."""
    report = BuildReport(out or settings.feed_dir)
    directory = report.directory
    previous = state.load(directory)
    found = state.signatures(session)
    shown = _settings_shown(settings, alarm_leads)
    current = dict(previous)
    job: _Job | None = None
    rendered: dict[str, tuple[str, dict[Path, bytes], datetime | None]] = {}
    for part in (*kinds, "board"):
        key = state.part_key(part, found, shown)
        recorded = previous.get(part)
        if recorded is not None and recorded.fresh(key, as_of, directory):
            report.unchanged.extend(directory / name for name in recorded.files)
            continue
        if job is None:
            treaties = list(session.scalars(select(Treaty).order_by(Treaty.slug)))
            job = _Job(report, session, settings, treaties, alarm_leads, as_of)
        files, valid_until = _BUILDERS[part](job)
        rendered[part] = (key, files, valid_until)
    # All files at once: one wait for the disk, and a failure leaves every old file whole.
    report.write(
        {path: content for _, files, _ in rendered.values() for path, content in files.items()}
    )
    for part, (key, files, valid_until) in rendered.items():
        report.rendered.append(part)
        current[part] = state.PartState(key, as_of, valid_until, state.recorded(directory, files))
    if report.rendered:
        state.save(directory, current)
    return report
