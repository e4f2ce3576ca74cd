"""Building every feed file: ``feed.xml``, ``atom.xml``, ``calendar.ics`` and per treaty.

Used by ``tracker feed build`` and by the daemon (through the rss and ics notifiers) after
every change or fired alert. Each file is rewritten only when its content changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.feeds.events import FeedEvent, feed_events
from tracker.feeds.writer import write_if_changed
from tracker.schedule.models import Deadline, Meeting
from tracker.treaties.models import Treaty

if TYPE_CHECKING:
    from tracker.settings import Settings

Kind = Literal["rss", "ics"]
KINDS: tuple[Kind, ...] = ("rss", "ics")


@dataclass
class BuildReport:
    directory: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    def add(self, path: Path, content: bytes) -> None:
        (self.written if write_if_changed(path, content) else self.unchanged).append(path)


def _url(base: str, relative: str) -> str:
    return f"{base.rstrip('/')}/feed/{relative}"


def _build_rss(
    report: BuildReport, session: Session, settings: Settings, treaties: Sequence[Treaty]
) -> None:
    from tracker.feeds.rss import FeedMeta, render

    base, limit = settings.feeds.base_url, settings.feeds.max_entries
    events = feed_events(session, base)
    meta = FeedMeta(
        title=settings.feeds.title,
        description="Alerts, changes and new deadlines and meetings",
        home=base,
        rss_url=_url(base, "feed.xml"),
        atom_url=_url(base, "atom.xml"),
    )
    rss, atom = render(meta, events[:limit])
    report.add(report.directory / "feed.xml", rss)
    report.add(report.directory / "atom.xml", atom)
    for treaty in treaties:
        mine: list[FeedEvent] = [e for e in events if e.treaty_slug == treaty.slug][:limit]
        relative = f"treaties/{treaty.slug}.xml"
        meta = FeedMeta(
            title=f"{settings.feeds.title}: {treaty.name}",
            description=f"Alerts and changes for {treaty.name}",
            home=base,
            rss_url=_url(base, relative),
            atom_url=_url(base, f"treaties/{treaty.slug}.atom"),
        )
        report.add(report.directory / relative, render(meta, mine)[0])


def _build_ics(
    report: BuildReport,
    session: Session,
    settings: Settings,
    treaties: Sequence[Treaty],
    alarm_leads: Sequence[timedelta],
) -> None:
    from tracker.feeds.ics import CalendarMeta, calendar

    deadlines = list(session.scalars(select(Deadline).order_by(Deadline.id)))
    meetings = list(session.scalars(select(Meeting).order_by(Meeting.id)))
    meta = CalendarMeta(
        name=settings.feeds.title,
        description="Deadlines and meetings of arms control treaties",
        base_url=settings.feeds.base_url,
        alarm_leads=alarm_leads,
    )
    report.add(report.directory / "calendar.ics", calendar(deadlines, meetings, meta))
    for treaty in treaties:
        mine = CalendarMeta(
            name=f"{settings.feeds.title}: {treaty.short_name or treaty.name}",
            description=f"Deadlines and meetings of {treaty.name}",
            base_url=settings.feeds.base_url,
            alarm_leads=alarm_leads,
        )
        report.add(
            report.directory / f"treaties/{treaty.slug}.ics",
            calendar(
                [d for d in deadlines if d.treaty_id == treaty.id],
                [m for m in meetings if m.treaty_id == treaty.id],
                mine,
            ),
        )


def build_feeds(
    session: Session,
    settings: Settings,
    out: Path | None = None,
    *,
    kinds: Sequence[Kind] = KINDS,
    alarm_leads: Sequence[timedelta] = (),
    as_of: datetime,
) -> BuildReport:
    """Write the feeds of ``kinds`` and the board into ``out`` (default: the feed directory)."""
    report = BuildReport(out or settings.feed_dir)
    treaties = list(session.scalars(select(Treaty).order_by(Treaty.slug)))
    if "rss" in kinds:
        _build_rss(report, session, settings, treaties)
    if "ics" in kinds:
        _build_ics(report, session, settings, treaties, alarm_leads)
    from tracker.web.board import build_board

    report.add(report.directory / "index.html", build_board(session, settings, as_of))
    return report
