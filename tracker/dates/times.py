"""A moment as RFC 3339 / ISO 8601 write it, or a local time in a named zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from tracker.dates.periods import checked_year
from tracker.dates.windows import DateWindow, Precision, zone
from tracker.errors import InvalidInput

PATTERN = re.compile(
    r"(?P<year>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{1,2}):(?P<min>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,6}))?)?"
    r"(?:(?P<offset>[+-]\d{2}:?\d{2})"
    r"|\s*(?P<zone>Z|[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z][A-Za-z0-9_+\-]*)*))?",
    re.IGNORECASE,
)


def build(match: re.Match[str]) -> DateWindow:
    """The window of one moment. With an offset the moment is kept in UTC (the text keeps
    the offset as written); with a zone name the local time must exist there and be
    unambiguous."""
    day = date(checked_year(int(match["year"])), int(match["m"]), int(match["d"]))
    micro = int((match["frac"] or "0").ljust(6, "0"))
    at = time(int(match["h"]), int(match["min"]), int(match["s"] or 0), micro)
    shown = f"{day.isoformat()}T{_clock(at)}"
    if match["offset"]:
        return _with_offset(day, at, shown, match["offset"])
    name = match["zone"]
    if name and name.upper() in ("Z", "UTC"):
        name = "UTC"
    if name:
        _check_local_time(datetime.combine(day, at), name)
        shown += f" {name}"
    return DateWindow(shown, day, day, Precision.TIME, at=at, tz=name)


def _clock(at: time) -> str:
    if at.microsecond:
        return at.isoformat(timespec="microseconds")
    return at.isoformat(timespec="seconds" if at.second else "minutes")


def _with_offset(day: date, at: time, shown: str, said: str) -> DateWindow:
    digits = said.replace(":", "")
    hours, minutes = int(digits[1:3]), int(digits[3:5])
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {said} is not a UTC offset")
    sign = -1 if digits[0] == "-" else 1
    offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
    moment = datetime.combine(day, at, tzinfo=offset).astimezone(UTC)
    text = f"{shown}{digits[0]}{hours:02d}:{minutes:02d}"
    return DateWindow(
        text, moment.date(), moment.date(), Precision.TIME, at=moment.time(), tz="UTC"
    )


def _check_local_time(local: datetime, name: str) -> None:
    """Refuse a wall-clock time the zone skips (DST gap) or shows twice (clocks go back)."""
    where = zone(name)
    first, second = local.replace(tzinfo=where), local.replace(tzinfo=where, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(where).replace(tzinfo=None) != local
        if skipped:
            raise InvalidInput(
                f"{local:%Y-%m-%dT%H:%M} does not exist in {name} (the clocks skip it)"
            )
        options = " or ".join(
            f"{local:%Y-%m-%dT%H:%M}{_offset_text(moment)}" for moment in (first, second)
        )
        raise InvalidInput(
            f"{local:%Y-%m-%dT%H:%M} happens twice in {name} (the clocks go back): "
            f"give its offset, {options}"
        )


def _offset_text(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
