"""The ics publisher: ``calendar.ics`` and one calendar per treaty, written by icalendar.

Every property comes from the stored item: the UID stored with it, ``SEQUENCE`` bumped on
each change, and ``DTSTAMP``/``LAST-MODIFIED`` from the item's last change rather than the
clock, so the same items always give the same bytes. Each VEVENT is serialised once per
build and the same bytes go into ``calendar.ics`` and into its treaty's calendar; the
VTIMEZONEs are icalendar's, made once per zone and range in a process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import ClassVar

from icalendar import Alarm, Calendar, Event, Timezone, vDuration, vRecur

from tracker.dates import DateWindow, Precision, zone
from tracker.notifiers.feeds import CalendarItem, FeedPublisher, Publication, Shown, item_link
from tracker.views.wording import one_line

PRODID = "-//tracker//arms control treaty tracker//EN"
_END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class _Rendered:
    """One VEVENT's bytes, with what a calendar needs to place and file it."""

    uid: str
    treaty: str | None
    text: bytes
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


def _description(item: CalendarItem) -> str:
    if item.type == "meeting":
        heads = [one_line(str(d.get("head") or d.get("name") or "")) for d in item.delegations]
        lines = [
            item.series,
            f"When: {item.when.text}" + (f" to {item.ends.text}" if item.ends else ""),
            f"Status: {item.status}",
            ("Delegations: " + "; ".join(h for h in heads if h)) if any(heads) else None,
            item.outcome,
        ]
    else:
        of = f" of {item.treaty_name}" if item.treaty_name else ""
        lines = [
            f"Deadline ({item.kind}){of}",
            f"Due: {item.when.text}",
            f"Status: {item.status}",
            item.notes,
        ]
    parts = [line.strip() for line in lines if line and line.strip()]
    cited = [
        " — ".join(v for v in (s.get("title"), s.get("publisher"), s.get("url")) if v)
        for s in item.sources
    ]
    if cited:
        parts.append("Sources:\n" + "\n".join(f"- {c}" for c in cited))
    return "\n\n".join(parts)


def _span(item: CalendarItem) -> tuple[date | datetime, date | datetime | None]:
    """DTSTART and DTEND: timed in the item's zone (Geneva as Europe/Zurich), else all-day
    with the exclusive end spanning the whole window."""
    start, end = item.when, item.ends
    if start.precision is Precision.TIME:
        at = start.at or datetime.min.time()
        begins = datetime.combine(start.earliest, at, zone(start.tz or item.tz))
        return begins, (max(end.end(item.tz), begins) if end is not None else None)
    last = end.latest if end is not None else start.latest
    return start.earliest, max(last, start.earliest) + timedelta(days=1)


def _zones(*moments: date | datetime | None) -> frozenset[str]:
    keys = (getattr(m.tzinfo, "key", None) for m in moments if isinstance(m, datetime))
    return frozenset(key for key in keys if key and key != "UTC")


def _event(item: CalendarItem, base_url: str, leads: Sequence[timedelta]) -> _Rendered:
    begins, ends = _span(item)
    updated = item.updated_at.astimezone(UTC)
    event = Event()
    event.add("summary", _summary(item.title, item.when))
    event.add("dtstart", begins)
    if ends is not None:
        event.add("dtend", ends)
    event.add("dtstamp", updated)
    event.add("uid", item.uid)
    event.add("sequence", item.sequence)
    if item.recurrence:
        event.add("rrule", vRecur.from_ical(item.recurrence.removeprefix("RRULE:")))
    event.add("categories", [item.kind] + ([item.treaty] if item.treaty else []))
    event.add("description", _description(item))
    event.add("last-modified", updated)
    if item.location:
        event.add("location", one_line(item.location))
    event.add("status", _status(item.status, item.when))
    event.add("transp", "TRANSPARENT")
    event.add("url", item_link(base_url, item.type, item.slug))
    if item.status == ("scheduled" if item.type == "meeting" else "pending"):
        for lead in leads:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", one_line(item.title))
            alarm.add("trigger", -lead)
            event.add_component(alarm)
    zones = _zones(begins, ends)
    return _Rendered(item.uid, item.treaty, event.to_ical(), zones, item.when.earliest.year)


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """Cached per process: icalendar searches the zone's transitions, up to tens of ms."""
    first, last = date(first_year, 1, 1), date(last_year, 1, 1)
    found: bytes = Timezone.from_tzid(tzid, first_date=first, last_date=last).to_ical()
    return found


def _timezones(events: Iterable[_Rendered]) -> dict[str, bytes]:
    """The VTIMEZONE of each zone the events use, covering the years of its events."""
    years: dict[str, list[int]] = {}
    for event in events:
        for tzid in event.tzids:
            years.setdefault(tzid, []).append(event.year)
    return {tzid: _vtimezone(tzid, min(found) - 1, max(found) + 2) for tzid, found in years.items()}


def _calendar(
    name: str,
    description: str,
    refresh: timedelta,
    events: Sequence[_Rendered],
    zones: dict[str, bytes],
) -> bytes:
    """The VCALENDAR of ``events`` (already ordered), with the VTIMEZONEs they use first.

    Each VEVENT and VTIMEZONE is serialised by icalendar once per build and placed where
    icalendar writes components, after the calendar's properties: parsing the file and
    writing it back with icalendar gives the same bytes."""
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-caldesc", one_line(description))
    calendar.add("x-wr-calname", one_line(name))
    calendar.add("refresh-interval", vDuration(refresh), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh))
    head: bytes = calendar.to_ical()
    used = sorted({tzid for event in events for tzid in event.tzids})
    body = b"".join(zones[tzid] for tzid in used) + b"".join(event.text for event in events)
    return head.removesuffix(_END) + body + _END


class IcsPublisher(FeedPublisher):
    """The calendars: every item given, and each treaty's share of them."""

    name: ClassVar[str] = "ics"
    shows: ClassVar[frozenset[Shown]] = frozenset(("items",))

    def publish(self, publication: Publication) -> Mapping[str, bytes]:
        p = publication
        events = sorted(
            (_event(item, p.base_url, p.alarm_leads) for item in p.items), key=lambda e: e.uid
        )
        zones = _timezones(events)
        about = "Deadlines and meetings of arms control treaties"
        files = {"calendar.ics": _calendar(p.title, about, p.refresh, events, zones)}
        by_treaty: dict[str | None, list[_Rendered]] = {}
        for event in events:
            by_treaty.setdefault(event.treaty, []).append(event)
        for treaty in p.treaties:
            name = f"{p.title}: {treaty.short_name or treaty.name}"
            about = f"Deadlines and meetings of {treaty.name}"
            mine = by_treaty.get(treaty.slug, [])
            files[f"treaties/{treaty.slug}.ics"] = _calendar(name, about, p.refresh, mine, zones)
        return files
