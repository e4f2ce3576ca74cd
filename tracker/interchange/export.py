"""``tracker export``: every deadline and meeting (or those a filter keeps) as CSV, JSON
(the same columns; both read back by ``tracker import``) or iCalendar (the .ics feed's
events: for calendars, not a lossless copy)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.queries import Filter, Scope
from tracker.interchange.csv_io import row, write_csv, write_json

FORMATS = ("csv", "json", "ics")


def selected(session: Session, flt: Filter) -> list[Deadline | Meeting]:
    """The deadlines, then the meetings, that ``flt`` keeps (by date, then slug); the
    undated ones too, unless only the past is asked for."""
    wanted = replace(flt, undated=flt.scope is not Scope.PAST)
    found: list[Deadline | Meeting] = [*queries.deadlines(session, wanted)]
    meetings = queries.meetings(session, wanted)
    if flt.scope is Scope.PAST:  # a series is listed by the window, not by its first day
        meetings = [m for m in meetings if m.recurrence is None or _first_passed(m, flt)]
    return found + list(meetings)


def _first_passed(meeting: Meeting, flt: Filter) -> bool:
    return meeting.starts_earliest is not None and meeting.starts_earliest < flt.today


def render(
    session: Session,
    flt: Filter,
    form: str,
    *,
    as_of: datetime,
    title: str = "tracker export",
    base_url: str = "",
) -> bytes:
    """The selected items in ``form`` (csv, json or ics)."""
    items = selected(session, flt)
    if form == "ics":
        return _calendar(items, as_of, title, base_url)
    rows = [row(item) for item in items]
    return (write_csv(rows) if form == "csv" else write_json(rows)).encode()


def _calendar(items: list[Deadline | Meeting], as_of: datetime, title: str, base_url: str) -> bytes:
    from tracker.notifiers.feeds import Publication
    from tracker.notifiers.ics import IcsPublisher
    from tracker.views.items import from_deadline, from_meeting

    shown = [
        from_deadline(item, as_of) if isinstance(item, Deadline) else from_meeting(item, as_of)
        for item in items
    ]
    publication = Publication(title=title, base_url=base_url, treaties=(), items=shown)
    return IcsPublisher().publish(publication)["calendar.ics"]
