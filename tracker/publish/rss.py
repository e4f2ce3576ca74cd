"""RSS 2.0 and Atom documents from feed events, written directly as XML text.

Each entry is rendered once per build and the same bytes go into ``feed.xml`` and into
its treaty's feed: feedgen built an lxml tree per entry and per document, which cost more
than the whole build may take (500 entries and 40 treaty feeds). The documents keep
feedgen's shape. ``lastBuildDate``/``updated`` come from the events, never the clock, so
the same events always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from tracker.publish.events import FeedEvent, one_line

# The date of an empty feed: fixed, so an empty feed is byte-identical too.
EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
RSS_NAMESPACES = (
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)


@dataclass(frozen=True)
class FeedMeta:
    title: str
    description: str
    home: str
    rss_url: str
    atom_url: str


@dataclass(frozen=True)
class RenderedEntry:
    """One event as an RSS ``<item>`` and an Atom ``<entry>``, ready to be joined."""

    event: FeedEvent
    rss: str
    atom: str


def _text(value: str) -> str:
    return escape(one_line(value))


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC)).replace("-0000", "+0000")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def render_entry(event: FeedEvent) -> RenderedEntry:
    guid, title, link = escape(event.guid), _text(event.title), escape(event.link)
    summary = _text(event.summary)
    rss_category = atom_category = ""
    if event.treaty_slug:
        rss_category = f"      <category>{escape(event.treaty_slug)}</category>\n"
        atom_category = f"    <category term={quoteattr(event.treaty_slug)}/>\n"
    rss = (
        "    <item>\n"
        f"      <title>{title}</title>\n"
        f"      <link>{link}</link>\n"
        f"      <description>{summary}</description>\n"
        f'      <guid isPermaLink="false">{guid}</guid>\n'
        f"{rss_category}"
        f"      <pubDate>{_rfc822(event.event_time)}</pubDate>\n"
        "    </item>\n"
    )
    atom = (
        "  <entry>\n"
        f"    <id>{guid}</id>\n"
        f"    <title>{title}</title>\n"
        f"    <updated>{_iso(event.event_time)}</updated>\n"
        f"    <link href={quoteattr(event.link)}/>\n"
        f"    <summary>{summary}</summary>\n"
        f"{atom_category}"
        f"    <published>{_iso(event.event_time)}</published>\n"
        "  </entry>\n"
    )
    return RenderedEntry(event, rss, atom)


def _updated(entries: Sequence[RenderedEntry]) -> datetime:
    return max((e.event.event_time for e in entries), default=EMPTY_FEED_DATE)


def rss_document(meta: FeedMeta, entries: Sequence[RenderedEntry]) -> bytes:
    """RSS 2.0 of ``entries`` (already newest first and limited)."""
    head = (
        f"{XML_DECLARATION}"
        f'<rss {RSS_NAMESPACES} version="2.0">\n'
        "  <channel>\n"
        f"    <title>{_text(meta.title)}</title>\n"
        f"    <link>{escape(meta.home)}</link>\n"
        f"    <description>{_text(meta.description)}</description>\n"
        f'    <atom:link href={quoteattr(meta.rss_url)} rel="self"/>\n'
        "    <docs>http://www.rssboard.org/rss-specification</docs>\n"
        "    <generator>tracker</generator>\n"
        "    <language>en</language>\n"
        f"    <lastBuildDate>{_rfc822(_updated(entries))}</lastBuildDate>\n"
        "    <ttl>60</ttl>\n"
    )
    body = "".join(e.rss for e in entries)
    return (head + body + "  </channel>\n</rss>\n").encode("utf-8")


def atom_document(meta: FeedMeta, entries: Sequence[RenderedEntry]) -> bytes:
    """Atom 1.0 of ``entries`` (already newest first and limited)."""
    head = (
        f"{XML_DECLARATION}"
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"  <id>{escape(meta.atom_url)}</id>\n"
        f"  <title>{_text(meta.title)}</title>\n"
        f"  <updated>{_iso(_updated(entries))}</updated>\n"
        "  <author>\n"
        f"    <name>{_text(meta.title)}</name>\n"
        "  </author>\n"
        f'  <link href={quoteattr(meta.atom_url)} rel="self"/>\n'
        f'  <link href={quoteattr(meta.home)} rel="alternate"/>\n'
        "  <generator>tracker</generator>\n"
        f"  <subtitle>{_text(meta.description)}</subtitle>\n"
    )
    body = "".join(e.atom for e in entries)
    return (head + body + "</feed>\n").encode("utf-8")


def render(meta: FeedMeta, events: Sequence[FeedEvent]) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom documents for ``events`` (already newest first, limited)."""
    entries = [render_entry(event) for event in events]
    return rss_document(meta, entries), atom_document(meta, entries)
