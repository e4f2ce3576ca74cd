"""iCalendar feeds of deadlines and meetings: ``calendar.ics`` and one per treaty.

Every property comes from the stored item: the UID stored with it, ``SEQUENCE`` bumped on
each change, and ``DTSTAMP``/``LAST-MODIFIED`` from the item's last change rather than the
clock, so the same database always gives the same bytes.

Each VEVENT is written once per build as the content lines icalendar would write (its
property order, escaping and folding: :mod:`tracker.publish.ical_text`), and the same text
goes into ``calendar.ics`` and into its treaty's calendar. The VTIMEZONEs come from
icalendar's ``Timezone.from_tzid``, made once per zone and range in a process. Building
icalendar objects and calling ``to_ical`` cost about a millisecond per event, more than a
whole build may take. Which items a calendar holds: :mod:`tracker.publish.calendar_items`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from tracker.dates import DateWindow, Precision, zone
from tracker.publish.calendar_items import CalendarItem
from tracker.publish.events import item_link, one_line
from tracker.publish.ical_text import day, escape_text, ical_value, instant, line, text, utc

PRODID = "-//tracker//arms control treaty tracker//EN"


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


def _span(item: CalendarItem, tzids: set[str]) -> str:
    if item.start.precision is Precision.TIME:
        begins, ends = _times(item.start, item.end, item.tz)
        lines = instant("DTSTART", begins, tzids)
        return lines + (instant("DTEND", ends, tzids) if ends is not None else "")
    first, after = _dates(item.start, item.end)
    return day("DTSTART", first) + day("DTEND", after)


def _alarms(triggers: Sequence[str], title: str) -> str:
    description = text("DESCRIPTION", one_line(title))
    return "".join(
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{description}{line('TRIGGER', trigger)}END:VALARM\r\n"
        for trigger in triggers
    )


def _deadline_description(item: CalendarItem) -> str:
    of = f" of {item.treaty_name}" if item.treaty_name else ""
    lines = [
        f"Deadline ({item.kind}){of}",
        f"Due: {item.start.text}",
        f"Status: {item.status}",
        item.notes,
    ]
    return _description(lines, item.sources)


def _meeting_description(item: CalendarItem) -> str:
    heads = [one_line(str(d.get("head") or d.get("name") or "")) for d in item.delegations]
    lines = [
        item.series,
        f"When: {item.start.text}" + (f" to {item.end.text}" if item.end else ""),
        f"Status: {item.status}",
        ("Delegations: " + "; ".join(h for h in heads if h)) if any(heads) else None,
        item.outcome,
    ]
    return _description(lines, item.sources)


def render_event(item: CalendarItem, meta: CalendarMeta, triggers: Sequence[str]) -> RenderedEvent:
    """The VEVENT, its properties in icalendar's canonical order (the fixed ones, then
    A to Z, then the alarms)."""
    from icalendar import vRecur

    tzids: set[str] = set()
    meeting = item.type == "meeting"
    rule = ""
    if item.recurrence:
        recurrence = vRecur.from_ical(item.recurrence.removeprefix("RRULE:"))
        rule = line("RRULE", ical_value(recurrence))
    categories = [item.kind] + ([item.treaty_slug] if item.treaty_slug else [])
    description = _meeting_description(item) if meeting else _deadline_description(item)
    updated = utc(item.updated_at)
    parts = [
        "BEGIN:VEVENT\r\n",
        text("SUMMARY", _summary(item.title, item.start)),
        _span(item, tzids),
        f"DTSTAMP:{updated}\r\n",
        text("UID", item.uid),
        f"SEQUENCE:{item.sequence}\r\n",
        rule,
        line("CATEGORIES", ",".join(escape_text(c) for c in categories)),
        text("DESCRIPTION", description),
        f"LAST-MODIFIED:{updated}\r\n",
        text("LOCATION", one_line(item.location)) if item.location else "",
        f"STATUS:{_status(item.status, item.start)}\r\n",
        "TRANSP:TRANSPARENT\r\n",
        line("URL", item_link(meta.base_url, item.type, item.slug)),
    ]
    if item.status == ("scheduled" if meeting else "pending"):
        parts.append(_alarms(triggers, item.title))
    parts.append("END:VEVENT\r\n")
    return RenderedEvent(
        item.uid, item.treaty_id, "".join(parts), frozenset(tzids), item.start.earliest.year
    )


def render_events(items: Iterable[CalendarItem], meta: CalendarMeta) -> list[RenderedEvent]:
    """Every item's VEVENT, once, ordered by UID so calendars are stable."""
    from icalendar import vDuration

    triggers = [ical_value(vDuration(-lead)) for lead in meta.alarm_leads]
    return sorted((render_event(item, meta, triggers) for item in items), key=lambda e: e.uid)


def _fixed_vtimezone(tzid: str, first: date, last: date) -> str | None:
    """The VTIMEZONE icalendar writes for a zone whose offset never changes between
    ``first`` and ``last`` (Asia/Tokyo), or None. icalendar walks such a zone to the year
    9999 looking for a change: 20 ms a zone, more than a calendar takes to write."""
    tz = zone(tzid)
    start = datetime.combine(first, time(0), tz)
    offset = start.utcoffset()
    day = first
    while day < last:  # twice a month: no offset change lasts less than that
        for moment in (day, day.replace(day=15)):
            if datetime.combine(moment, time(0), tz).utcoffset() != offset:
                return None
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    name = start.tzname()
    if offset is None or name is None or offset.seconds % 60:
        return None
    sign = "-" if offset < timedelta(0) else "+"
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    shown = f"{sign}{hours:02d}{minutes:02d}"
    return (
        f"BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n"
        f"COMMENT:This timezone only works from {first} to {last}.\r\n"
        f"BEGIN:STANDARD\r\nDTSTART:{first:%Y%m%d}T000000\r\n{text('TZNAME', name)}"
        f"TZOFFSETFROM:{shown}\r\nTZOFFSETTO:{shown}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> str:
    """Cached per process: icalendar searches the zone's transitions, milliseconds a zone."""
    from icalendar import Timezone

    first, last = date(first_year, 1, 1), date(last_year, 1, 1)
    fixed = _fixed_vtimezone(tzid, first, last)
    if fixed is not None:
        return fixed
    found = Timezone.from_tzid(tzid, first_date=first, last_date=last)
    raw: bytes = found.to_ical()
    return raw.decode("utf-8")


def timezones(events: Sequence[RenderedEvent]) -> dict[str, str]:
    """The VTIMEZONE of each zone the events use, covering the years of its events."""
    years: dict[str, list[int]] = {}
    for event in events:
        for tzid in event.tzids:
            years.setdefault(tzid, []).append(event.year)
    return {tzid: _vtimezone(tzid, min(found) - 1, max(found) + 2) for tzid, found in years.items()}


def assemble(meta: CalendarMeta, events: Sequence[RenderedEvent], zones: dict[str, str]) -> bytes:
    """The VCALENDAR of ``events`` (already ordered) with the VTIMEZONEs they need."""
    from icalendar import vDuration

    refresh = ical_value(vDuration(meta.refresh))
    used = sorted({tzid for event in events for tzid in event.tzids})
    head = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        f"{text('PRODID', PRODID)}"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        f"{text('X-WR-CALDESC', one_line(meta.description))}"
        f"{text('X-WR-CALNAME', one_line(meta.name))}"
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}\r\n"
        f"X-PUBLISHED-TTL:{refresh}\r\n"
    )
    body = "".join(zones[tzid] for tzid in used) + "".join(e.text for e in events)
    return (head + body + "END:VCALENDAR\r\n").encode("utf-8")
