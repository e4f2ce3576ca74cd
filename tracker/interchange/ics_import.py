"""Reading an iCalendar (RFC 5545, as meeting sites, Indico and Google Calendar export it)
into meetings to import.

Each VEVENT is a meeting known by its UID: its SUMMARY the title, DTSTART/DTEND (or
DURATION) its start and end, in the zone of DTSTART's TZID (a VTIMEZONE named after an
IANA or Windows zone is read by icalendar), or all-day (DATE values: DTEND is the day after
the last); LOCATION; STATUS:CANCELLED cancelled (anything else scheduled); RRULE its
recurrence, with its EXDATEs (and the days of overridden or cancelled instances, which
carry a RECURRENCE-ID) as days the series skips. An overridden instance that still takes
place is a meeting of its own, known as ``UID/YYYYMMDD`` (its original day).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from icalendar import Calendar, Component
from icalendar.timezone import tzids_from_tzinfo
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from tracker import dates
from tracker.errors import InvalidInput
from tracker.interchange.importing import Incoming
from tracker.recurrence import check_series, occurrences, with_exdates

# The longest UID the tracker keeps (the uid column).
MAX_UID = 200


def read_calendar(data: bytes) -> tuple[list[Incoming], list[str]]:
    """The meetings a calendar gives, and what was left out (with why). InvalidInput,
    naming the component, for a calendar that cannot be read."""
    _check_nesting(data)
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise InvalidInput(f"calendar: not an iCalendar file ({_first_line(exc)})") from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise InvalidInput("calendar: not an iCalendar file (no VCALENDAR)")
    floating = str(calendar.get("X-WR-TIMEZONE") or "UTC")
    try:
        dates.parse_zone(floating)
    except InvalidInput:
        floating = "UTC"
    events = [c for c in calendar.walk("VEVENT")]
    masters: dict[str, tuple[str, Component]] = {}
    instances: list[tuple[str, Component]] = []
    for number, event in enumerate(events, start=1):
        uid = str(event.get("UID") or "").strip()
        where = f"VEVENT {number}" + (f" (UID {uid})" if uid else "")
        if not uid:
            raise InvalidInput(f"{where}: no UID")
        if len(uid) > MAX_UID:
            raise InvalidInput(f"{where}: UID longer than {MAX_UID} characters")
        for name, problem in getattr(event, "errors", None) or ():
            raise InvalidInput(f"{where}: {name}: {_first_line(ValueError(problem))}")
        if event.get("RECURRENCE-ID") is not None:
            instances.append((where, event))
        elif uid in masters:
            raise InvalidInput(f"{where}: a second VEVENT with the same UID")
        else:
            masters[uid] = (where, event)
    skipped: dict[str, list[date]] = {}
    records: list[Incoming] = []
    left_out: list[str] = []
    for where, event in instances:
        uid = str(event["UID"]).strip()
        original = _day(_moment(event, "RECURRENCE-ID", where), _zone_of(masters, uid, floating))
        skipped.setdefault(uid, []).append(original)
        if str(event.get("STATUS", "")).upper() != "CANCELLED":
            moved_uid = f"{uid}/{original:%Y%m%d}"
            records.append(_meeting(event, where, moved_uid, floating, [], rule=False))
    for uid, (where, event) in masters.items():
        try:
            records.append(_meeting(event, where, uid, floating, skipped.get(uid, []), rule=True))
        except CannotHold as exc:
            left_out.append(f"{where}: {exc}")
    return records, left_out


def _check_nesting(data: bytes) -> None:
    """Refuse a component left open or closed out of turn (a file cut short), naming it
    and the line: icalendar says only that it found no calendar."""
    opened: list[tuple[str, int]] = []
    counts: dict[str, int] = {}
    for number, raw in enumerate(data.splitlines(), start=1):
        name, _, value = raw.partition(b":")
        word = name.strip().upper()
        if word not in (b"BEGIN", b"END"):
            continue
        component = value.strip().upper().decode("ascii", "replace")
        if word == b"BEGIN":
            counts[component] = counts.get(component, 0) + 1
            opened.append((f"{component} {counts[component]}", number))
        elif not opened or not opened[-1][0].startswith(component + " "):
            inside = f" inside {opened[-1][0]}" if opened else ""
            raise InvalidInput(f"line {number}: END:{component}{inside} that is not open")
        else:
            opened.pop()
    if opened:
        what, number = opened[-1]
        raise InvalidInput(f"{what} (line {number}): no END (the file ends inside it)")


def _first_line(exc: BaseException) -> str:
    said = str(exc).strip().splitlines()
    first = said[0] if said else type(exc).__name__
    return first if len(first) <= 100 else first[:99] + "…"


def _zone_of(masters: dict[str, tuple[str, Component]], uid: str, floating: str) -> str:
    if uid not in masters:
        return floating
    where, event = masters[uid]
    return _zone_name(_moment(event, "DTSTART", where), floating) or floating


def _moment(event: Component, name: str, where: str) -> date | datetime:
    prop = event.get(name)
    value = getattr(prop, "dt", None)
    if not isinstance(value, date):
        raise InvalidInput(f"{where}: no {name}" if prop is None else f"{where}: bad {name}")
    return value


def _zone_name(moment: date | datetime, floating: str) -> str | None:
    """The IANA name of a moment's zone (None for a day): the zone's own key, a fixed
    UTC, or, for a naive (floating) time, the calendar's X-WR-TIMEZONE."""
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        return floating
    names = [getattr(moment.tzinfo, "key", None), *tzids_from_tzinfo(moment.tzinfo)]
    for name in names:
        if not isinstance(name, str):
            continue
        for candidate in (name, WINDOWS_TO_OLSON.get(name)):  # Outlook: "W. Europe …"
            try:
                return dates.parse_zone(candidate) if candidate else None
            except InvalidInput:
                continue
    if moment.utcoffset() == timedelta(0):
        return "UTC"
    return None  # a zone known only by its VTIMEZONE rules: kept as UTC


def _local(moment: datetime, zone_name: str | None) -> tuple[datetime, str]:
    """A moment as a wall-clock time in a zone the tracker can name."""
    if zone_name is not None and moment.tzinfo is not None:
        named: tzinfo = dates.zone(zone_name)
        return moment.astimezone(named), zone_name
    if zone_name is not None:
        return moment, zone_name
    return moment.astimezone(UTC), "UTC"


def _day(moment: date | datetime, zone_name: str) -> date:
    """The day a moment falls on in the meeting's zone (a day is itself)."""
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(dates.zone(zone_name)).date()


def _meeting(
    event: Component,
    where: str,
    uid: str,
    floating: str,
    skipped_days: list[date],
    *,
    rule: bool,
) -> Incoming:
    title = str(event.get("SUMMARY") or "").strip()
    if not title:
        raise InvalidInput(f"{where}: no SUMMARY")
    starts = _moment(event, "DTSTART", where)
    ends = _end(event, starts, where)
    zone_name = _zone_name(starts, floating)
    options: dict[str, str | None] = {"title": " ".join(title.split())}
    if isinstance(starts, datetime):
        local_start, zone_name = _local(starts, zone_name)
        options["starts"] = f"{local_start:%Y-%m-%dT%H:%M} {zone_name}"
        options["tz"] = zone_name
        options["ends"] = None
        if isinstance(ends, datetime) and ends > starts:
            local_end, _ = _local(ends, zone_name)
            options["ends"] = f"{local_end:%Y-%m-%dT%H:%M} {zone_name}"
    else:
        last = ends - timedelta(days=1) if ends is not None and ends > starts else starts
        options["starts"] = starts.isoformat()
        options["ends"] = last.isoformat() if last > starts else None
    options["location"] = " ".join(str(event.get("LOCATION") or "").split())
    status = str(event.get("STATUS") or "").upper()
    options["status"] = "cancelled" if status == "CANCELLED" else "scheduled"
    if rule:
        options["repeat"] = _recurrence(event, where, starts, zone_name or floating, skipped_days)
    else:
        options["repeat"] = ""
    return Incoming(
        type="meeting", identity=uid, where=where, options=options, uid=uid, by_uid=True
    )


def _end(event: Component, starts: date | datetime, where: str) -> date | datetime | None:
    if event.get("DTEND") is not None:
        ends = _moment(event, "DTEND", where)
        if isinstance(ends, datetime) != isinstance(starts, datetime):
            raise InvalidInput(f"{where}: DTEND is not of DTSTART's type (a day, a time)")
        return ends
    duration = getattr(event.get("DURATION"), "dt", None)
    if isinstance(duration, timedelta):
        return starts + duration
    return None


class CannotHold(Exception):
    """A well-formed event the tracker has no way to keep (it is skipped and listed)."""


def _recurrence(
    event: Component, where: str, starts: date | datetime, zone_name: str, skipped: list[date]
) -> str:
    """The RRULE as the tracker keeps it (UNTIL as the last day an occurrence may start,
    in the meeting's zone), with the days it skips that are days of the series; "" (no
    rule) for a single event. :class:`CannotHold` for a series the tracker cannot keep
    (more than one RRULE, an RDATE, more often than daily, too many days skipped)."""
    rules = event.get("RRULE")
    if rules is None:
        return ""
    if isinstance(rules, list):
        if len(rules) != 1:
            raise CannotHold("more than one RRULE (a meeting keeps one)")
        rules = rules[0]
    if event.get("RDATE") is not None:
        raise CannotHold("RDATE (a meeting keeps one RRULE and the days it skips)")
    parts: list[str] = []
    for name, values in rules.items():
        if name == "UNTIL":
            values = [_last_day(values[0], starts, zone_name)]
        parts.append(f"{name}={','.join(_rule_value(v) for v in values)}")
    first = _day(starts, zone_name)
    days = [_day(moment, zone_name) for moment in _exdates(event, where)] + skipped
    try:
        rule = with_exdates(";".join(parts), [])
        check_series(rule, first)
        # Only days the series has (a calendar may list others): the rule stays short.
        days = [day for day in days if occurrences(rule, first, day, day)]
        return with_exdates(rule, days)
    except InvalidInput as exc:
        raise CannotHold(f"RRULE: {exc}") from None


def _last_day(until: date | datetime, starts: date | datetime, zone_name: str) -> date:
    """UNTIL as a day: an occurrence starting after the UNTIL instant is not in the series,
    so a day whose occurrence would start later than UNTIL's time is not its last."""
    day = _day(until, zone_name)
    if not isinstance(until, datetime) or not isinstance(starts, datetime):
        return day
    local_until = until.astimezone(dates.zone(zone_name)) if until.tzinfo else until
    local_start = starts.astimezone(dates.zone(zone_name)) if starts.tzinfo else starts
    return day if local_until.time() >= local_start.time() else day - timedelta(days=1)


def _rule_value(value: Any) -> str:
    if isinstance(value, date):
        return f"{value:%Y%m%d}"
    to_ical = getattr(value, "to_ical", None)
    if callable(to_ical):
        said = to_ical()
        return said.decode() if isinstance(said, bytes) else str(said)
    return str(value)


def _exdates(event: Component, where: str) -> Iterable[date | datetime]:
    found = event.get("EXDATE")
    if found is None:
        return []
    lists = found if isinstance(found, list) else [found]
    moments: list[date | datetime] = []
    for listed in lists:
        for one in getattr(listed, "dts", []):
            if not isinstance(one.dt, date):
                raise InvalidInput(f"{where}: bad EXDATE")
            moments.append(one.dt)
    return moments
