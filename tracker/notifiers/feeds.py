"""What a feed publisher is given: the items a calendar shows (the views' read model, a
recurring meeting as one item with its rule), the entries a news feed shows.

The caller (:mod:`tracker.publish.build`) reads them, worded, from the views and the outbox;
a publisher only lays them out as files. Nothing here reads a database or a clock, so the
same publication always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from tracker.views.items import Item, page_link

if TYPE_CHECKING:
    from tracker.settings import Settings

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


@dataclass(frozen=True)
class Publication:
    """Everything the feeds of one build show. ``entries`` are newest first and limited;
    ``items`` are what the calendars hold (bounded by the caller), each read whole (with
    its calendar identity)."""

    title: str
    base_url: str
    treaties: Sequence[FeedTreaty]
    entries: Sequence[FeedEntry] = ()
    items: Sequence[Item] = ()
    alarm_leads: Sequence[timedelta] = ()
    refresh: timedelta = timedelta(hours=1)
    # The calendars leave out the markers of dates not fixed to a week (``?precise=1``).
    precise: bool = False

    def url(self, relative: str) -> str:
        """The public address of a file under the feed directory."""
        return f"{self.base_url.rstrip('/')}/{relative}"


class FeedPublisher:
    """What the built-in publishers share: no settings of their own (the feed directory
    has a default, so they are always configured) and nothing held open."""

    audience: ClassVar[Literal["feed"]] = "feed"

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def close(self) -> None:
        """Nothing to release."""


# An item's page on the web: the views' one rule for it.
item_link = page_link
