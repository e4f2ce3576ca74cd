"""The ics publisher: ``calendar.ics`` and one calendar per treaty.

Every property comes from the stored item: the UID stored with it, ``SEQUENCE`` bumped on
each change, and ``DTSTAMP``/``LAST-MODIFIED`` from the item's last change rather than the
clock, so the same items always give the same bytes. A date not fixed to a week ("2027", "end of
September 2026") is a one-day marker on its first possible day, its window in its title,
or left out for a calendar of precise dates (``Publication.precise``); a date to be
announced is left out.

Each VEVENT is written once per build as the content lines icalendar writes for it (its
property order, escaping and folding: :mod:`tracker.notifiers.ical_text`; the tests hold
the two to the same bytes), and the same bytes go into ``calendar.ics`` and into its
treaty's calendar. Building ``icalendar.Event`` objects and calling ``to_ical`` instead
took 300-650 ms for the bench's 518 events in 41 calendars against 25-35 ms this way:
most of a feed build, whose target is 150 ms. The VTIMEZONEs are icalendar's, made once
per zone and range in a process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import ClassVar

from icalendar import Timezone, TimezoneStandard, vDuration, vRecur

from tracker.dates import DateWindow, Precision, zone
from tracker.notifiers.feeds import FeedPublisher, Publication, Shown, item_link
from tracker.notifiers.ical_text import escape_text, ical_value, line, moment, text, utc
from tracker.recurrence import split_exdates
from tracker.views.items import Item
from tracker.views.wording import confidence_phrase, one_line, source_phrase, status_phrase

PRODID = "-//tracker//arms control treaty tracker//EN"
# A date window wider than this is no event of that length: a subscriber's calendar would
# fill a whole month or year. It is shown as a one-day marker on its first possible day.
WIDEST_EVENT = timedelta(days=7)


def is_marker(window: DateWindow) -> bool:
    """Whether an item dated ``window`` is shown as a marker rather than as an event."""
    return window.latest - window.earliest >= WIDEST_EVENT


@dataclass(frozen=True)
class _Rendered:
    """One VEVENT's bytes, with what a calendar needs to place and file it."""

    uid: str
    treaty: str | None
    text: bytes
    tzids: frozenset[str]
    year: int


def _status(item_status: str, window: DateWindow) -> str:
    """STATUS: cancelled (or superseded) is CANCELLED; a date not known to the day, or a
    postponement to a date to be announced, TENTATIVE; anything else CONFIRMED (the
    description says the state and how sure the date is)."""
    if item_status in ("cancelled", "superseded"):
        return "CANCELLED"
    if not window.is_exact or (item_status == "postponed" and window.is_tba):
        return "TENTATIVE"
    return "CONFIRMED"


def _summary(title: str, window: DateWindow) -> str:
    if is_marker(window):
        return f"{one_line(title)} — date not fixed: {one_line(window.text)}"
    if window.is_exact:
        return one_line(title)
    return f"{one_line(title)} (date imprecise, {window.precision.value}: {window.text})"


def _description(item: Item) -> str:
    if item.type == "meeting":
        heads = [one_line(str(d.get("head") or d.get("name") or "")) for d in item.delegations]
        lines = [
            item.series,
            f"When: {item.when.text}" + (f" to {item.ends.text}" if item.ends else ""),
            f"Status: {status_phrase(item.status)}",
            f"Confidence: {confidence_phrase(item.confidence)}",
            ("Delegations: " + "; ".join(h for h in heads if h)) if any(heads) else None,
            item.outcome,
        ]
    else:
        of = f" of {item.treaty_name}" if item.treaty_name else ""
        lines = [
            f"Deadline ({item.kind}){of}",
            f"Due: {item.when.text}",
            f"Status: {status_phrase(item.status)}",
            f"Confidence: {confidence_phrase(item.confidence)}",
            item.notes,
        ]
    parts = [line.strip() for line in lines if line and line.strip()]
    cited = [source_phrase(s) + (f" — {s['url']}" if s.get("url") else "") for s in item.sources]
    if cited:
        parts.append("Sources:\n" + "\n".join(f"- {c}" for c in cited))
    return "\n\n".join(parts)


def _span(item: Item) -> tuple[date | datetime, date | datetime | None]:
    """DTSTART and DTEND: timed in the item's zone (Geneva as Europe/Zurich), else all-day
    with the exclusive end spanning the whole window (the day after its last day); a
    marker: its first possible day alone."""
    start, end = item.when, item.ends
    if is_marker(start):
        return start.earliest, start.earliest + timedelta(days=1)
    if start.precision is Precision.TIME:
        at = start.at or datetime.min.time()
        begins = datetime.combine(start.earliest, at, zone(start.tz or item.tz))
        return begins, (max(end.end(item.tz), begins) if end is not None else None)
    last = end.latest if end is not None else start.latest
    return start.earliest, max(last, start.earliest) + timedelta(days=1)


def _zones(*moments: date | datetime | None) -> frozenset[str]:
    keys = (getattr(m.tzinfo, "key", None) for m in moments if isinstance(m, datetime))
    return frozenset(key for key in keys if key and key != "UTC")


def _alarms(triggers: Sequence[str], title: str) -> str:
    description = text("DESCRIPTION", one_line(title))
    return "".join(
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{description}{line('TRIGGER', trigger)}END:VALARM\r\n"
        for trigger in triggers
    )


def _event(item: Item, base_url: str, triggers: Sequence[str]) -> _Rendered:
    """The VEVENT as icalendar writes it: its properties in icalendar's order (the fixed
    ones, then A to Z, then the alarms), escaped and folded as icalendar does."""
    uid, updated_at = item.uid, item.updated_at
    if uid is None or updated_at is None:
        raise ValueError(f"{item.type} {item.slug}: a calendar shows items read whole")
    begins, ends = _span(item)
    rule = ""
    if item.recurrence:
        kept, skipped = split_exdates(item.recurrence.removeprefix("RRULE:"))
        rule = line("RRULE", ical_value(_rrule(kept, begins))) + _exdates(skipped, begins)
    categories = [item.kind] + ([item.treaty] if item.treaty else [])
    updated = utc(updated_at)
    parts = [
        "BEGIN:VEVENT\r\n",
        text("SUMMARY", _summary(item.title, item.when)),
        moment("DTSTART", begins),
        moment("DTEND", ends) if ends is not None else "",
        f"DTSTAMP:{updated}\r\n",
        text("UID", uid),
        f"SEQUENCE:{item.sequence}\r\n",
        rule,
        line("CATEGORIES", ",".join(escape_text(c) for c in categories)),
        text("DESCRIPTION", _description(item)),
        f"LAST-MODIFIED:{updated}\r\n",
        text("LOCATION", one_line(item.location)) if item.location else "",
        f"STATUS:{_status(item.status, item.when)}\r\n",
        "TRANSP:TRANSPARENT\r\n",
        line("URL", item_link(base_url, item.type, item.slug)),
    ]
    # No alarm counts down to a marker's day: it is only the first the date could be.
    if item.status == ("scheduled" if item.type == "meeting" else "pending") and not is_marker(
        item.when
    ):
        parts.append(_alarms(triggers, item.title))
    parts.append("END:VEVENT\r\n")
    raw = "".join(parts).encode()
    return _Rendered(uid, item.treaty, raw, _zones(begins, ends), item.when.earliest.year)


def _rrule(kept: str, begins: date | datetime) -> vRecur:
    """The RRULE; an UNTIL day of a timed series as the instant its last occurrence may
    start, in UTC (RFC 5545: UNTIL takes DTSTART's type, in UTC for a zoned time)."""
    recur: vRecur = vRecur.from_ical(kept)
    until = recur.get("UNTIL", [None])[0]
    if isinstance(begins, datetime) and isinstance(until, date) and not isinstance(until, datetime):
        recur["UNTIL"] = [datetime.combine(until, begins.timetz()).astimezone(UTC)]
    return recur


def _exdates(days: Iterable[date], begins: date | datetime) -> str:
    """EXDATE: the days a series skips, of DTSTART's type (a day, or its time that day)."""
    skipped = sorted(days)
    if not skipped:
        return ""
    if not isinstance(begins, datetime):
        return line("EXDATE;VALUE=DATE", ",".join(f"{day:%Y%m%d}" for day in skipped))
    moments = [datetime.combine(day, begins.timetz()) for day in skipped]
    first = moment("EXDATE", moments[0])  # names its zone as DTSTART does
    name = first.split(":", 1)[0]
    if name == "EXDATE":
        return line(name, ",".join(utc(m) for m in moments))
    return line(name, ",".join(m.strftime("%Y%m%dT%H%M%S") for m in moments))


def _one_offset(tzid: str, first: date, last: date) -> timedelta | None:
    """The offset of a zone that keeps it from ``first`` to ``last`` (Asia/Tokyo), else None.
    Sampled twice a month: no offset has lasted less than that."""
    tz = zone(tzid)
    offset = datetime.combine(first, time(), tz).utcoffset()
    day = first
    while day < last:
        for sample in (day, day.replace(day=15)):
            if datetime.combine(sample, time(), tz).utcoffset() != offset:
                return None
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return offset


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """Cached per process. ``Timezone.from_tzid`` searches a zone's transitions, 4 ms a
    zone, and for a zone that never changes it searches to the year 9999 (30 ms, a fifth
    of a build): that one's VTIMEZONE is its single STANDARD period, made here with
    icalendar's components as ``from_tzid`` makes it."""
    first, last = date(first_year, 1, 1), date(last_year, 1, 1)
    offset = _one_offset(tzid, first, last)
    name = datetime.combine(first, time(), zone(tzid)).tzname()
    if offset is None or name is None:
        found = Timezone.from_tzid(tzid, first_date=first, last_date=last)
    else:
        found = Timezone()
        found.add("TZID", tzid)
        found.add("COMMENT", f"This timezone only works from {first} to {last}.")
        period = TimezoneStandard()
        period.TZOFFSETFROM = period.TZOFFSETTO = offset
        period.add("TZNAME", name)
        period.DTSTART = datetime.combine(first, time())
        found.add_component(period)
    raw: bytes = found.to_ical()
    return raw


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
    refresh: str,
    events: Sequence[_Rendered],
    zones: dict[str, bytes],
) -> bytes:
    """The VCALENDAR of ``events`` (already ordered), with the VTIMEZONEs they use first,
    as icalendar writes it: parsing the file and writing it back gives the same bytes."""
    head = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        f"{text('PRODID', PRODID)}"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        f"{text('X-WR-CALDESC', one_line(description))}"
        f"{text('X-WR-CALNAME', one_line(name))}"
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}\r\n"
        f"X-PUBLISHED-TTL:{refresh}\r\n"
    )
    used = sorted({tzid for event in events for tzid in event.tzids})
    body = b"".join(zones[tzid] for tzid in used) + b"".join(event.text for event in events)
    return head.encode() + body + b"END:VCALENDAR\r\n"


class IcsPublisher(FeedPublisher):
    """The calendars: every item given, and each treaty's share of them."""

    name: ClassVar[str] = "ics"
    shows: ClassVar[frozenset[Shown]] = frozenset(("items",))

    def publish(self, publication: Publication) -> Mapping[str, bytes]:
        p = publication
        triggers = [ical_value(vDuration(-lead)) for lead in p.alarm_leads]
        refresh = ical_value(vDuration(p.refresh))
        # A date to be announced is no event: a calendar has no day to put it on; asked for
        # precise dates only, a date not fixed to a week is not one either.
        dated = (
            item
            for item in p.items
            if not item.when.is_tba and not (p.precise and is_marker(item.when))
        )
        events = sorted((_event(item, p.base_url, triggers) for item in dated), key=lambda e: e.uid)
        zones = _timezones(events)
        about = "Deadlines and meetings of arms control treaties"
        files = {"calendar.ics": _calendar(p.title, about, refresh, events, zones)}
        by_treaty: dict[str | None, list[_Rendered]] = {}
        for event in events:
            by_treaty.setdefault(event.treaty, []).append(event)
        for treaty in p.treaties:
            name = f"{p.title}: {treaty.short_name or treaty.name}"
            about = f"Deadlines and meetings of {treaty.name}"
            mine = by_treaty.get(treaty.slug, [])
            files[f"treaties/{treaty.slug}.ics"] = _calendar(name, about, refresh, mine, zones)
        return files
