"""A date window (the days an event may fall on) and the time zones a window may name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import InvalidInput

MIN_YEAR, MAX_YEAR = 1800, 2200
# No expression parses to a window whose last day is more than this after its first: a
# deadline "by end of 2030" recorded in 2026, or a range, may span up to ten years, and
# longer ones are refused. Queries use this to bound a search by a window's first day,
# which an index serves, from its last day.
LONGEST_WINDOW = timedelta(days=3652)

# Names people use that IANA does not have: Geneva shares Zurich's rules.
ZONE_ALIASES = {"Europe/Geneva": "Europe/Zurich", "Asia/Calcutta": "Asia/Kolkata"}
# A zone names a place (Area/Location), is UTC, or is one of IANA's fixed offsets (Etc/GMT+3,
# for a meeting held at sea or announced only with its offset). `localtime`, `Factory`,
# `posixrules`, `posix/...`, `right/...` and legacy names (`EST5EDT`, `US/Eastern`) are
# refused: they depend on the machine or are kept by IANA only for old systems.
_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Etc",
        "Europe",
        "Indian",
        "Pacific",
    }
)
_UTC_NAMES = frozenset({"UTC"})


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA place name, UTC or an alias; raises InvalidInput otherwise."""
    key = ZONE_ALIASES.get(name, name)
    if key not in _UTC_NAMES and key.partition("/")[0] not in _AREAS:
        raise _unknown_zone(name)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise _unknown_zone(name) from None


def _unknown_zone(name: str) -> InvalidInput:
    return InvalidInput(f"unknown time zone {name!r} (use an IANA name like Europe/Zurich, or UTC)")


def parse_zone(name: str) -> str:
    """Check a time zone name; return it unchanged."""
    zone(name)
    return name


class Precision(StrEnum):
    """How closely a date is known, from the finest; the names every reader shows.

    A part of a month or a year (``early March``, ``late 2026``) is a ``range`` of days like
    ``8–12 March``; ``tba`` is a date to be announced, which has no window at all.
    """

    TIME = "time"
    DAY = "day"
    WEEK = "week"
    RANGE = "range"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    SEASON = "season"
    YEAR = "year"
    TBA = "tba"


@dataclass(frozen=True)
class DateWindow:
    """The days an event may fall on, ``earliest`` to ``latest`` inclusive.

    ``uncertain`` marks a date given with doubt (EDTF ``?``): the window is the same, the
    fact is less sure.
    """

    text: str
    earliest: date
    latest: date
    precision: Precision
    at: time | None = None
    tz: str | None = None
    uncertain: bool = False

    def __str__(self) -> str:
        return self.text

    @property
    def is_exact(self) -> bool:
        return self.precision in (Precision.TIME, Precision.DAY)

    @property
    def is_tba(self) -> bool:
        return self.precision is Precision.TBA

    def start(self, zone: str) -> datetime:
        """The first instant of the window, in the window's zone or else ``zone``."""
        if self.is_tba:
            raise ValueError("a date to be announced has no start")
        return datetime.combine(self.earliest, self.at or time(0), tzinfo=zone_(self.tz or zone))

    def end(self, zone: str) -> datetime:
        """The instant the window closes: its time, or midnight after its last day."""
        if self.at is not None or self.is_tba:
            return self.start(zone)
        return datetime.combine(self.latest + timedelta(days=1), time(0), zone_(self.tz or zone))


zone_ = zone  # DateWindow's methods take a parameter named ``zone``


# A date to be announced: no day at all. Its days are the last there are, so that it sorts
# after every dated item and no range of days (a listing, an alert's reach) ever holds it;
# it has no start or end instant. Stored as no date (NULL columns).
TBA = DateWindow("TBA", date.max, date.max, Precision.TBA)
