"""The rss publisher: ``feed.xml`` (RSS 2.0), ``atom.xml`` and one RSS feed per treaty.

The documents are written as XML text in feedgen's shape: feedgen built an lxml tree per
entry and per document, which cost more than a whole build may take (500 entries and 40
treaty feeds). Each entry is rendered once and the same text goes into ``feed.xml`` and
its treaty's feed. ``lastBuildDate``/``updated`` come from the entries, never the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import ClassVar
from xml.sax.saxutils import escape, quoteattr

from tracker.notifiers.feeds import FeedEntry, FeedPublisher, Publication, Shown
from tracker.views.wording import one_line

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
class _Rendered:
    """One entry as an RSS ``<item>`` and an Atom ``<entry>``, ready to be joined."""

    entry: FeedEntry
    rss: str
    atom: str


def _text(value: str) -> str:
    return escape(one_line(value))


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC)).replace("-0000", "+0000")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _render(entry: FeedEntry) -> _Rendered:
    guid, title, link = escape(entry.guid), _text(entry.title), escape(entry.link)
    summary = _text(entry.summary)
    rss_category = atom_category = ""
    if entry.treaty_slug:
        rss_category = f"      <category>{escape(entry.treaty_slug)}</category>\n"
        atom_category = f"    <category term={quoteattr(entry.treaty_slug)}/>\n"
    rss = (
        "    <item>\n"
        f"      <title>{title}</title>\n"
        f"      <link>{link}</link>\n"
        f"      <description>{summary}</description>\n"
        f'      <guid isPermaLink="false">{guid}</guid>\n'
        f"{rss_category}"
        f"      <pubDate>{_rfc822(entry.at)}</pubDate>\n"
        "    </item>\n"
    )
    atom = (
        "  <entry>\n"
        f"    <id>{guid}</id>\n"
        f"    <title>{title}</title>\n"
        f"    <updated>{_iso(entry.at)}</updated>\n"
        f"    <link href={quoteattr(entry.link)}/>\n"
        f"    <summary>{summary}</summary>\n"
        f"{atom_category}"
        f"    <published>{_iso(entry.at)}</published>\n"
        "  </entry>\n"
    )
    return _Rendered(entry, rss, atom)


def _updated(entries: Sequence[_Rendered]) -> datetime:
    return max((e.entry.at for e in entries), default=EMPTY_FEED_DATE)


def _rss_document(meta: FeedMeta, entries: Sequence[_Rendered]) -> bytes:
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


def _atom_document(meta: FeedMeta, entries: Sequence[_Rendered]) -> bytes:
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


def render(meta: FeedMeta, entries: Sequence[FeedEntry]) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom documents of ``entries`` (already newest first, limited)."""
    rendered = [_render(entry) for entry in entries]
    return _rss_document(meta, rendered), _atom_document(meta, rendered)


class RssPublisher(FeedPublisher):
    """The news feeds: the newest entries, and each treaty's share of them."""

    name: ClassVar[str] = "rss"
    shows: ClassVar[frozenset[Shown]] = frozenset(("entries",))

    def publish(self, publication: Publication) -> Mapping[str, bytes]:
        p = publication
        entries = [_render(entry) for entry in p.entries]
        meta = FeedMeta(
            title=p.title,
            description="Alerts, changes and new deadlines and meetings",
            home=p.base_url,
            rss_url=p.url("feed.xml"),
            atom_url=p.url("atom.xml"),
        )
        files = {
            "feed.xml": _rss_document(meta, entries),
            "atom.xml": _atom_document(meta, entries),
        }
        by_treaty: dict[str | None, list[_Rendered]] = {}
        for entry in entries:
            by_treaty.setdefault(entry.entry.treaty_slug, []).append(entry)
        for treaty in p.treaties:
            relative = f"treaties/{treaty.slug}.xml"
            meta = FeedMeta(
                title=f"{p.title}: {treaty.name}",
                description=f"Alerts and changes for {treaty.name}",
                home=p.base_url,
                rss_url=p.url(relative),
                atom_url=p.url(f"treaties/{treaty.slug}.atom"),
            )
            files[relative] = _rss_document(meta, by_treaty.get(treaty.slug, []))
        return files
