"""The rows a seed load looks up record after record: its sources by key, its deadlines
and meetings by slug (each read once, at the start), its treaties by slug (each read once,
when first named).

A query flushes the session first (autoflush), so a query per record flushed every record's
writes one by one; kept here, the writes of many records go in one flush.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput


class SeedRows:
    def __init__(self, session: Session, deadlines: Sequence[str], meetings: Sequence[str]) -> None:
        """``deadlines`` and ``meetings``: the slugs the seeds name (only those are read: a
        catalogue may hold many more items of its own)."""
        self.session = session
        self._sources = {source.key: source for source in session.scalars(select(Source))}
        self._treaties: dict[str, Treaty] = {}
        items: list[Deadline | Meeting] = [*_by_slug(session, Deadline, deadlines)]
        items += _by_slug(session, Meeting, meetings)
        self._items = {(item.__tablename__, item.slug): item for item in items}

    def source(self, key: str) -> Source | None:
        return self._sources.get(key)

    def add_source(self, source: Source) -> None:
        self.session.add(source)
        self._sources[source.key] = source

    def sources(self, keys: list[str]) -> list[Source]:
        """The sources of ``keys``, in order, each with its id (a new one is flushed).
        Raises InvalidInput naming the first unknown key."""
        missing = [key for key in keys if key not in self._sources]
        if missing:
            raise InvalidInput(f"sources: unknown source {missing[0]!r}")
        found = [self._sources[key] for key in keys]
        if any(source.id is None for source in found):
            self.session.flush()
        return found

    def item(self, model: type[Deadline] | type[Meeting], slug: str) -> Deadline | Meeting | None:
        """The deadline or meeting ``slug`` as it was before the load (none: it is new)."""
        return self._items.get((model.__tablename__, slug))

    def treaty(self, slug: str) -> Treaty:
        """The treaty ``slug``; raises NotFound (naming the closest) when there is none."""
        found = self._treaties.get(slug)
        if found is None:
            found = self._treaties[slug] = queries.treaty(self.session, slug)
        return found


_SLUGS_PER_QUERY = 500


def _by_slug(
    session: Session, model: type[Deadline] | type[Meeting], slugs: Sequence[str]
) -> list[Deadline | Meeting]:
    found: list[Deadline | Meeting] = []
    for start in range(0, len(slugs), _SLUGS_PER_QUERY):
        chosen = slugs[start : start + _SLUGS_PER_QUERY]
        found += session.scalars(select(model).where(model.slug.in_(chosen)))
    return found
