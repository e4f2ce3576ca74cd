"""Finding treaties, deadlines and meetings by part of a title or slug, and the nearest
slugs to one that names nothing (for the page of an unknown address)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.treaties import Treaty

FOUND_SHOWN = 50
NEAREST_SHOWN = 5


@dataclass(frozen=True)
class Found:
    """A treaty, deadline or meeting as a search lists it; ``path``: its page's, relative
    to the public base URL."""

    type: str
    slug: str
    title: str

    @property
    def path(self) -> str:
        return f"{self.type.replace('treaty', 'treatie')}s/{self.slug}"


def _columns(type_: str) -> tuple[Any, Any, Any]:
    if type_ == "treaty":
        return Treaty, Treaty.slug, func.coalesce(Treaty.short_name, Treaty.name)
    model = Deadline if type_ == "deadline" else Meeting
    return model, model.slug, model.title


TYPES = ("treaty", "deadline", "meeting")


def search(session: Session, query: str, limit: int = FOUND_SHOWN) -> list[Found]:
    """Those whose title (a treaty's names) or slug holds ``query``, ignoring case;
    treaties first, at most ``limit`` of each type."""
    words = query.strip().casefold()
    if not words:
        return []
    found: list[Found] = []
    for type_ in TYPES:
        model, slug, title = _columns(type_)
        titles = [title] + ([Treaty.name] if model is Treaty else [])
        matches = or_(*(func.lower(t).contains(words, autoescape=True) for t in [*titles, slug]))
        rows = session.execute(select(slug, title).where(matches).order_by(slug).limit(limit))
        found += [Found(type_, row[0], row[1]) for row in rows]
    return found


def every_name(session: Session) -> list[Found]:
    """Every treaty, deadline and meeting, by slug (for :func:`nearest`)."""
    found: list[Found] = []
    for type_ in TYPES:
        _, slug, title = _columns(type_)
        found += [Found(type_, row[0], row[1]) for row in session.execute(select(slug, title))]
    return found


def nearest(wanted: str, names: Iterable[Found], limit: int = NEAREST_SHOWN) -> list[Found]:
    """The names whose slugs are closest to ``wanted`` (``new-strat`` → ``new-start``)."""
    by_slug: dict[str, list[Found]] = {}
    for name in names:
        by_slug.setdefault(name.slug, []).append(name)
    close = difflib.get_close_matches(wanted.casefold(), by_slug, n=limit, cutoff=0.6)
    return [name for slug in close for name in by_slug[slug]][:limit]
