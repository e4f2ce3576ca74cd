"""iCalendar feeds of deadlines and meetings: ``calendar.ics`` and one per treaty.

Every property comes from the stored item: the UID stored with it, ``SEQUENCE`` bumped on
each change, and ``DTSTAMP``/``LAST-MODIFIED`` from the item's last change rather than the
clock, so the same database always gives the same bytes.

Each VEVENT is written once per build, as the content lines icalendar itself would write
(its property order, escaping and folding), and the same text goes into ``calendar.ics``
and its treaty's calendar; the VTIMEZONEs (icalendar's ``Timezone.from_tzid``) are made
once per build for the zones in use, covering the years the build's events span. Building
icalendar objects and calling ``to_ical`` cost about a millisecond per event, more than
the whole build may take. Tests parse the output back with icalendar.

What a calendar holds: the items that have not ended, nearest first, at most
:data:`AHEAD_CAP`, and the items that have ended, the most recent first, at most
:data:`PAST_CAP`; recurring meetings always (their RRULE carries them on). A schedule of
a few hundred items is there whole; with 100k, the calendar keeps what a subscriber
looks at and older items drop out (the board, the API and the CLI still list them).
A treaty's calendar is its share of those items, so the caps bound every build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.dates import DateWindow, Precision, zone
from tracker.feeds.events import item_link, one_line
from tracker.schedule.models import Deadline, Meeting

PRODID = "-//tracker//arms control treaty tracker//EN"
PAST_CAP = 200
AHEAD_CAP = 1000
FOLD = 75  # octets per content line (RFC 5545 3.1), as icalendar folds


@dataclass(frozen=True)
class CalendarMeta:
    name: str
    description: str
    base_url: str
    refresh: timedelta = timedelta(hours=1)
    alarm_leads: Sequence[timedelta] = ()


@dataclass(frozen=True)
class RenderedEvent:
    """One VEVENT's content lines, with what a calendar needs to place and file it."""

    uid: str
    treaty_id: int | None
    text: str
    tzids: frozenset[str]
    year: int


def escape_text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 3.3.11 (and icalendar) do it."""
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """``line`` folded into lines of at most 75 octets, never splitting an escape."""
    if line.isascii():
        return _fold_ascii(line)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if current and size + width >= FOLD:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, size = [carried], len(carried.encode("utf-8"))
            else:
                parts.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _fold_ascii(line: str) -> str:
    """:func:`fold` for one octet per character, by slicing."""
    if len(line) < FOLD:
        return line
    parts = []
    start = 0
    while len(line) - start >= FOLD:
        end = start + FOLD - 1
        if end - start > 1 and line[end - 1] in "\\^":
            end -= 1  # an escape's backslash goes with what it escapes
        parts.append(line[start:end])
        start = end
    parts.append(line[start:])
    return "\r\n ".join(parts)


def _line(name: str, value: str) -> str:
    return fold(f"{name}:{value}") + "\r\n"


def _text(name: str, value: str) -> str:
    return _line(name, escape_text(value))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _is_utc(tz: tzinfo | None) -> bool:
    return tz is UTC or getattr(tz, "key", None) == "UTC"


def _instant(name: str, moment: datetime, tzids: set[str]) -> str:
    if _is_utc(moment.tzinfo):
        return _line(name, _utc(moment))
    assert isinstance(moment.tzinfo, ZoneInfo)  # every zone comes from tracker.dates.zone
    tzid = moment.tzinfo.key
    tzids.add(tzid)
    return _line(f"{name};TZID={tzid}", moment.strftime("%Y%m%dT%H%M%S"))


def _day(name: str, day: date) -> str:
    return _line(f"{name};VALUE=DATE", day.strftime("%Y%m%d"))


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


def _span(start: DateWindow, end: DateWindow | None, tz: str, tzids: set[str]) -> str:
    if start.precision is Precision.TIME:
        begins, ends = _times(start, end, tz)
        lines = _instant("DTSTART", begins, tzids)
        return lines + (_instant("DTEND", ends, tzids) if ends is not None else "")
    first, after = _dates(start, end)
    return _day("DTSTART", first) + _day("DTEND", after)


def _alarms(leads: Sequence[str], title: str) -> str:
    description = _text("DESCRIPTION", one_line(title))
    return "".join(
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{description}{_line('TRIGGER', trigger)}END:VALARM\r\n"
        for trigger in leads
    )


def _categories(kind: str, treaty_slug: str | None) -> str:
    values = [kind] + ([treaty_slug] if treaty_slug else [])
    return _line("CATEGORIES", ",".join(escape_text(v) for v in values))


def _ical_text(value: Any) -> str:
    """An icalendar value's text (durations, recurrence rules)."""
    text: bytes = value.to_ical()
    return text.decode("ascii")


def _triggers(leads: Sequence[timedelta]) -> list[str]:
    from icalendar import vDuration

    return [_ical_text(vDuration(-lead)) for lead in leads]


def _event(
    item: Deadline | Meeting,
    window: DateWindow,
    span: str,
    head: str,
    tail: str,
    description: str,
    url: str,
) -> str:
    """A VEVENT's properties in icalendar's canonical order: the fixed ones, then A to Z."""
    updated = _utc(item.updated_at)
    return (
        "BEGIN:VEVENT\r\n"
        f"{_text('SUMMARY', _summary(item.title, window))}"
        f"{span}"
        f"DTSTAMP:{updated}\r\n"
        f"{_line('UID', escape_text(item.uid))}"
        f"SEQUENCE:{item.sequence}\r\n"
        f"{head}"
        f"{_categories(item.kind, item.treaty.slug if item.treaty else None)}"
        f"{_text('DESCRIPTION', description)}"
        f"LAST-MODIFIED:{updated}\r\n"
        f"{tail}"
        f"STATUS:{_status(item.status, window)}\r\n"
        "TRANSP:TRANSPARENT\r\n"
        f"{_line('URL', url)}"
    )


def deadline_event(
    deadline: Deadline, meta: CalendarMeta, triggers: Sequence[str]
) -> RenderedEvent:
    window = deadline.due
    tzids: set[str] = set()
    span = _span(window, None, deadline.tz, tzids)
    treaty = deadline.treaty.name if deadline.treaty else None
    description = _description(
        [
            f"Deadline ({deadline.kind}) of {treaty}" if treaty else f"Deadline ({deadline.kind})",
            f"Due: {window.text}",
            f"Status: {deadline.status}",
            deadline.notes,
        ],
        [s.as_dict() for s in deadline.sources],
    )
    url = item_link(meta.base_url, "deadline", deadline.slug)
    text = _event(deadline, window, span, "", "", description, url)
    if deadline.status == "pending":
        text += _alarms(triggers, deadline.title)
    return RenderedEvent(
        deadline.uid,
        deadline.treaty_id,
        text + "END:VEVENT\r\n",
        frozenset(tzids),
        window.earliest.year,
    )


def meeting_event(
    meeting: Meeting, meta: CalendarMeta, triggers: Sequence[str]
) -> RenderedEvent | None:
    window = meeting.starts
    if window is None:
        return None  # agreed but never dated: nothing to put in a calendar
    tzids: set[str] = set()
    span = _span(window, meeting.ends, meeting.tz, tzids)
    head = ""
    if meeting.recurrence:
        from icalendar import vRecur

        rule = vRecur.from_ical(meeting.recurrence.removeprefix("RRULE:"))
        head = _line("RRULE", _ical_text(rule))
    tail = _text("LOCATION", one_line(meeting.location)) if meeting.location else ""
    heads = [one_line(str(d.get("head") or d.get("name") or "")) for d in meeting.delegations]
    description = _description(
        [
            meeting.series,
            f"When: {window.text}" + (f" to {meeting.ends.text}" if meeting.ends else ""),
            f"Status: {meeting.status}",
            ("Delegations: " + "; ".join(h for h in heads if h)) if any(heads) else None,
            meeting.outcome,
        ],
        [s.as_dict() for s in meeting.sources],
    )
    url = item_link(meta.base_url, "meeting", meeting.slug)
    text = _event(meeting, window, span, head, tail, description, url)
    if meeting.status == "scheduled":
        text += _alarms(triggers, meeting.title)
    return RenderedEvent(
        meeting.uid,
        meeting.treaty_id,
        text + "END:VEVENT\r\n",
        frozenset(tzids),
        window.earliest.year,
    )


def render_events(
    deadlines: Iterable[Deadline], meetings: Iterable[Meeting], meta: CalendarMeta
) -> list[RenderedEvent]:
    """Every item's VEVENT, once, ordered by UID so calendars are stable."""
    triggers = _triggers(meta.alarm_leads)
    events = [deadline_event(d, meta, triggers) for d in deadlines]
    events += [e for e in (meeting_event(m, meta, triggers) for m in meetings) if e is not None]
    return sorted(events, key=lambda e: e.uid)


def timezones(events: Sequence[RenderedEvent]) -> dict[str, str]:
    """The VTIMEZONE of each zone the events use, covering the years they span."""
    from icalendar import Timezone

    used = sorted({tzid for event in events for tzid in event.tzids})
    if not used:
        return {}
    years = [event.year for event in events]
    first, last = date(min(years) - 1, 1, 1), date(max(years) + 2, 1, 1)
    return {
        tzid: Timezone.from_tzid(tzid, first_date=first, last_date=last).to_ical().decode("utf-8")
        for tzid in used
    }


def assemble(meta: CalendarMeta, events: Sequence[RenderedEvent], zones: dict[str, str]) -> bytes:
    """The VCALENDAR of ``events`` (already ordered) with the VTIMEZONEs they need."""
    from icalendar import vDuration

    refresh = _ical_text(vDuration(meta.refresh))
    used = sorted({tzid for event in events for tzid in event.tzids})
    head = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        f"{_text('PRODID', PRODID)}"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        f"{_text('X-WR-CALDESC', one_line(meta.description))}"
        f"{_text('X-WR-CALNAME', one_line(meta.name))}"
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}\r\n"
        f"X-PUBLISHED-TTL:{refresh}\r\n"
    )
    body = "".join(zones[tzid] for tzid in used) + "".join(e.text for e in events)
    return (head + body + "END:VCALENDAR\r\n").encode("utf-8")


def calendar(
    deadlines: Iterable[Deadline], meetings: Iterable[Meeting], meta: CalendarMeta
) -> bytes:
    """One whole VCALENDAR of these items."""
    events = render_events(deadlines, meetings, meta)
    return assemble(meta, events, timezones(events))


def calendar_items(session: Session, today: date) -> tuple[list[Deadline], list[Meeting]]:
    """What the calendars hold (see the module's docstring), read with bounded queries."""
    deadlines: list[Deadline] = _nearest(
        session,
        select(Deadline),
        Deadline.due_latest,
        Deadline.due_earliest,
        today,
    )
    dated = select(Meeting).where(Meeting.starts_earliest.is_not(None))
    ends = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    meetings: list[Meeting] = _nearest(
        session,
        dated.where(Meeting.recurrence.is_(None)),
        ends,
        Meeting.starts_earliest,
        today,
    )
    meetings += session.scalars(
        dated.where(Meeting.recurrence.is_not(None)).order_by(Meeting.id)
    ).all()
    return deadlines, meetings


def _nearest(session: Session, query: Select[Any], last: Any, first: Any, today: date) -> list[Any]:
    """Items not ended by ``today`` nearest first, then the most recently ended."""
    ahead = session.scalars(query.where(last >= today).order_by(first, last).limit(AHEAD_CAP))
    past = session.scalars(query.where(last < today).order_by(last.desc()).limit(PAST_CAP))
    return [*ahead, *past]
