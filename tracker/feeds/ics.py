"""An iCalendar feed of deadlines and meetings, with icalendar.

Every property comes from the stored item: the UID stored with it (icalendar's
``Event.new`` would invent a random one), ``SEQUENCE`` bumped on each change, and
``DTSTAMP``/``LAST-MODIFIED`` from the item's last change rather than the clock, so the
same database always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from tracker.dates import DateWindow, Precision, zone
from tracker.feeds.events import item_link, one_line
from tracker.schedule.models import Deadline, Meeting

if TYPE_CHECKING:
    from icalendar import Calendar, Event

PRODID = "-//tracker//arms control treaty tracker//EN"


@dataclass(frozen=True)
class CalendarMeta:
    name: str
    description: str
    base_url: str
    refresh: timedelta = timedelta(hours=1)
    alarm_leads: Sequence[timedelta] = ()


def _status(item_status: str, window: DateWindow) -> str:
    if item_status in ("cancelled", "superseded"):
        return "CANCELLED"
    if item_status == "postponed" or not window.is_exact:
        return "TENTATIVE"
    return "CONFIRMED"


def _summary(title: str, window: DateWindow) -> str:
    if window.is_exact:
        return one_line(title)
    return f"{one_line(title)} (date imprecise, {window.precision.value}: {window.text})"


def _description(lines: Iterable[str | None], sources: Iterable[dict[str, str | None]]) -> str:
    parts = [line.strip() for line in lines if line and line.strip()]
    cited = [
        " — ".join(v for v in (s.get("title"), s.get("publisher"), s.get("url")) if v)
        for s in sources
    ]
    if cited:
        parts.append("Sources:\n" + "\n".join(f"- {c}" for c in cited))
    return "\n\n".join(parts)


def _dates(start: DateWindow, end: DateWindow | None) -> tuple[date, date]:
    """All-day DTSTART and the exclusive DTEND spanning the whole window."""
    last = end.latest if end is not None else start.latest
    return start.earliest, max(last, start.earliest) + timedelta(days=1)


def _times(start: DateWindow, end: DateWindow | None, tz: str) -> tuple[datetime, datetime | None]:
    """Timed DTSTART/DTEND in the item's zone (Geneva as Europe/Zurich)."""
    begins = datetime.combine(start.earliest, start.at or datetime.min.time(), zone(start.tz or tz))
    if end is None:
        return begins, None
    return begins, max(end.end(tz), begins)


def _base_event(
    uid: str,
    sequence: int,
    updated: datetime,
    title: str,
    window: DateWindow,
    status: str,
    url: str,
) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", updated.astimezone(UTC))
    event.add("last-modified", updated.astimezone(UTC))
    event.add("summary", _summary(title, window))
    event.add("status", _status(status, window))
    event.add("url", url)
    return event


def _with_dates(event: Event, start: DateWindow, end: DateWindow | None, tz: str) -> None:
    if start.precision is Precision.TIME:
        begins, ends = _times(start, end, tz)
        event.add("dtstart", begins)
        if ends is not None:
            event.add("dtend", ends)
    else:
        first, after = _dates(start, end)
        event.add("dtstart", first)
        event.add("dtend", after)
    event.add("transp", "TRANSPARENT")


def _alarms(event: Event, leads: Sequence[timedelta], title: str) -> None:
    from icalendar import Alarm

    for lead in leads:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", one_line(title))
        alarm.add("trigger", -lead)
        event.add_component(alarm)


def deadline_event(deadline: Deadline, meta: CalendarMeta) -> Event:
    window = deadline.due
    event = _base_event(
        deadline.uid,
        deadline.sequence,
        deadline.updated_at,
        deadline.title,
        window,
        deadline.status,
        item_link(meta.base_url, "deadline", deadline.slug),
    )
    _with_dates(event, window, None, deadline.tz)
    event.add("categories", [deadline.kind] + ([deadline.treaty.slug] if deadline.treaty else []))
    treaty = deadline.treaty.name if deadline.treaty else None
    event.add(
        "description",
        _description(
            [
                f"Deadline ({deadline.kind}) of {treaty}"
                if treaty
                else f"Deadline ({deadline.kind})",
                f"Due: {window.text}",
                f"Status: {deadline.status}",
                deadline.notes,
            ],
            [s.as_dict() for s in deadline.sources],
        ),
    )
    if deadline.status == "pending":
        _alarms(event, meta.alarm_leads, deadline.title)
    return event


def meeting_event(meeting: Meeting, meta: CalendarMeta) -> Event | None:
    window = meeting.starts
    if window is None:
        return None  # agreed but never dated: nothing to put in a calendar
    event = _base_event(
        meeting.uid,
        meeting.sequence,
        meeting.updated_at,
        meeting.title,
        window,
        meeting.status,
        item_link(meta.base_url, "meeting", meeting.slug),
    )
    _with_dates(event, window, meeting.ends, meeting.tz)
    if meeting.recurrence:
        from icalendar import vRecur

        event.add("rrule", vRecur.from_ical(meeting.recurrence.removeprefix("RRULE:")))
    if meeting.location:
        event.add("location", one_line(meeting.location))
    event.add("categories", [meeting.kind] + ([meeting.treaty.slug] if meeting.treaty else []))
    heads = [one_line(str(d.get("head") or d.get("name") or "")) for d in meeting.delegations]
    event.add(
        "description",
        _description(
            [
                meeting.series,
                f"When: {window.text}" + (f" to {meeting.ends.text}" if meeting.ends else ""),
                f"Status: {meeting.status}",
                ("Delegations: " + "; ".join(h for h in heads if h)) if any(heads) else None,
                meeting.outcome,
            ],
            [s.as_dict() for s in meeting.sources],
        ),
    )
    if meeting.status == "scheduled":
        _alarms(event, meta.alarm_leads, meeting.title)
    return event


def calendar(
    deadlines: Iterable[Deadline], meetings: Iterable[Meeting], meta: CalendarMeta
) -> bytes:
    """The whole VCALENDAR, events ordered by UID so the output is stable."""
    from icalendar import Calendar, vDuration

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", one_line(meta.name))
    cal.add("x-wr-caldesc", one_line(meta.description))
    cal.add("refresh-interval", meta.refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(meta.refresh))
    events = [deadline_event(d, meta) for d in deadlines]
    events += [e for e in (meeting_event(m, meta) for m in meetings) if e is not None]
    for event in sorted(events, key=lambda e: str(e["uid"])):
        cal.add_component(event)
    _add_timezones(cal)
    content: bytes = cal.to_ical()
    return content


def _add_timezones(cal: Calendar) -> None:
    """VTIMEZONEs for the zones used, covering only the years the events span."""
    starts = [c.decoded("dtstart") for c in cal.walk("VEVENT")]
    years = [s.year for s in starts] or [2000]
    cal.add_missing_timezones(
        first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
    )
