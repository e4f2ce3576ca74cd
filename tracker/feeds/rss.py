"""RSS 2.0 and Atom documents from feed events, with feedgen.

feedgen stamps ``lastBuildDate``/``updated`` with the current time and prepends entries
unless told otherwise; here both come from the events, so the same events always give
the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.feeds.events import FeedEvent, one_line

# The date of an empty feed: fixed, so an empty feed is byte-identical too.
EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedMeta:
    title: str
    description: str
    home: str
    rss_url: str
    atom_url: str


def render(meta: FeedMeta, events: Sequence[FeedEvent]) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom documents for ``events`` (already newest first, limited)."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(meta.atom_url)
    feed.title(one_line(meta.title))
    feed.subtitle(one_line(meta.description))
    feed.description(one_line(meta.description))
    feed.author({"name": one_line(meta.title)})
    feed.language("en")
    feed.generator("tracker")
    feed.ttl(60)
    for event in events:
        entry = feed.add_entry(order="append")
        entry.id(event.guid)
        entry.guid(event.guid, permalink=False)
        entry.title(one_line(event.title))
        entry.link(href=event.link)
        entry.summary(one_line(event.summary))
        entry.published(event.event_time)
        entry.updated(event.event_time)
        if event.treaty_slug:
            entry.category(term=event.treaty_slug)
    feed.updated(max((e.event_time for e in events), default=EMPTY_FEED_DATE))
    # RSS has one channel link, feedgen takes the last one given: the home page.
    feed.link(href=meta.rss_url, rel="self")
    feed.link(href=meta.home, rel="alternate")
    rss: bytes = feed.rss_str(pretty=True)
    feed.link(href=meta.atom_url, rel="self", replace=True)
    feed.link(href=meta.home, rel="alternate")
    atom: bytes = feed.atom_str(pretty=True)
    return rss, atom
