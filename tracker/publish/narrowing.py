"""A publication narrowed to one treaty, kind or confidence: the feeds of a board's view.

The board's "subscribe to this view" links carry its filter (``feed.xml?treaty=new-start``),
and each feed shows what the board does: the calendars the items the filter keeps, the news
feeds the entries about those items. An entry names its item only by its page's address,
so the items are looked up by slug (a bounded query: the entries are). An entry about
something else (a treaty) is kept only when the filter names nothing but its treaty.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog.models import Deadline, Meeting
from tracker.notifiers.feeds import FeedEntry, Publication, item_link
from tracker.views.filters import BoardFilter


def narrowed(session: Session, publication: Publication, only: BoardFilter) -> Publication:
    """``publication`` with only the items and entries ``only`` keeps."""
    if not only.active:
        return publication
    items = [item for item in publication.items if only.matches(item)]
    kept = _kept_links(session, publication, only)
    entries = [entry for entry in publication.entries if _keeps(entry, kept, only)]
    return replace(publication, items=items, entries=entries)


def _keeps(entry: FeedEntry, kept: set[str], only: BoardFilter) -> bool:
    if entry.link in kept:
        return True
    about_an_item = "/deadlines/" in entry.link or "/meetings/" in entry.link
    only_treaty = only.kind is None and only.confidence is None
    return not about_an_item and only_treaty and entry.treaty_slug == only.treaty


def _kept_links(session: Session, publication: Publication, only: BoardFilter) -> set[str]:
    """The addresses of the entries' items that ``only`` keeps."""
    base = publication.base_url
    kept: set[str] = set()
    for type_, model in (("deadline", Deadline), ("meeting", Meeting)):
        prefix = item_link(base, type_, "")
        slugs = {e.link.removeprefix(prefix) for e in publication.entries}
        slugs = {slug for slug in slugs if slug and "/" not in slug}
        if slugs:
            query = only.narrow(select(model.slug).where(model.slug.in_(slugs)), model)
            kept |= {item_link(base, type_, slug) for slug in session.scalars(query)}
    return kept
