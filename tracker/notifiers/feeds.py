"""What a feed publisher is given: the items a calendar shows, the entries a news feed shows.

The caller (:mod:`tracker.publish.build`) reads them, worded, from the views and the outbox;
a publisher only lays them out as files. Nothing here reads a database or a clock, so the
same publication always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from tracker.dates import DateWindow

# What a publisher may show; a part of the build is rendered again when what it shows changed.
Shown = Literal["entries", "items"]
EVERYTHING: frozenset[Shown] = frozenset(("entries", "items"))


@dataclass(frozen=True)
class FeedTreaty:
    """A treaty with a feed and a calendar of its own (``treaties/<slug>.xml``, ``.ics``)."""

    slug: str
    name: str
    short_name: str | None = None


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a news feed: a public alert, a change or a new item, already worded.

    ``guid`` is the same on every rebuild and every machine for the same alert or change."""

    guid: str
    kind: Literal["alert", "change", "new"]
    title: str
    summary: str
    link: str
    at: datetime
    treaty_slug: str | None = None


class CalendarItem(Protocol):
    """What a calendar shows of an agenda item (a deadline, or a meeting with its rule)."""

    @property
    def type(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def tz(self) -> str: ...
    @property
    def treaty(self) -> str | None: ...
    @property
    def treaty_name(self) -> str | None: ...
    @property
    def when(self) -> DateWindow: ...
    @property
    def ends(self) -> DateWindow | None: ...
    @property
    def notes(self) -> str | None: ...
    @property
    def series(self) -> str | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def recurrence(self) -> str | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def delegations(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def sources(self) -> Sequence[Mapping[str, str | None]]: ...


@dataclass(frozen=True)
class Publication:
    """Everything the feeds of one build show. ``entries`` are newest first and limited;
    ``items`` are what the calendars hold (bounded by the caller)."""

    title: str
    base_url: str
    treaties: Sequence[FeedTreaty]
    entries: Sequence[FeedEntry] = ()
    items: Sequence[CalendarItem] = ()
    alarm_leads: Sequence[timedelta] = ()
    refresh: timedelta = timedelta(hours=1)

    def url(self, relative: str) -> str:
        """The public address of a file under the feed directory."""
        return f"{self.base_url.rstrip('/')}/feed/{relative}"


def item_link(base_url: str, subject_type: str, slug: str) -> str:
    """An item's page on the web board."""
    return f"{base_url.rstrip('/')}/{subject_type}s/{slug}"
