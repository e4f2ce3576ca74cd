"""The catalogue's revision: a counter every catalogue write moves on, in its own flush.

Readers that render from the database (the board, pages, API, feeds) key their caches and
ETags by it, so an edit made by any process is seen on the next request, and a request
between edits costs one small read. Writes to the outbox, the plan or the daemon's lock
are not catalogue writes and leave it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tracker.db import Base

if TYPE_CHECKING:
    from tracker.clock import Clock

CATALOG = "catalog"
# Not the catalogue's: the active daemon's last round, as the time of its row.
DAEMON_TICK = "daemon-tick"
# The tables whose rows are the catalogue (what pages and feeds show).
CATALOG_TABLES = frozenset(
    {
        "treaties",
        "participation_events",
        "deadlines",
        "meetings",
        "sources",
        "deadline_sources",
        "meeting_sources",
        "treaty_sources",
        "participation_event_sources",
        "changes",
        "claims",
        "forecasts",
        "forecast_outcomes",
    }
)


class Revision(Base):
    __tablename__ = "revisions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Stamp:
    """A revision and when it was reached (None before the first catalogue write)."""

    value: int
    changed_at: datetime | None


def current(connection: Connection | Session, name: str = CATALOG) -> int:
    """The revision now (0 before the first catalogue write)."""
    return stamp(connection, name).value


def stamp(connection: Connection | Session, name: str = CATALOG) -> Stamp:
    """The revision now and when it moved, in one small read (its primary key)."""
    query = select(Revision.value, Revision.changed_at).where(Revision.name == name)
    row = connection.execute(query).first()
    if row is None:
        return Stamp(0, None)
    changed_at = row.changed_at
    if changed_at is not None and changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=UTC)
    return Stamp(int(row.value or 0), changed_at)


def bump(connection: Connection, now: datetime, name: str = CATALOG) -> None:
    """Move the revision on, in the caller's transaction. The row is made by the
    migration; made here too for a schema built from the models (tests), in a savepoint,
    so that of two first writers at once one inserts and the other moves it on."""
    moved = connection.execute(
        update(Revision)
        .where(Revision.name == name)
        .values(value=Revision.value + 1, changed_at=now)
    )
    if moved.rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(insert(Revision).values(name=name, value=1, changed_at=now))
    except IntegrityError:
        bump(connection, now, name)


def watch(factory: sessionmaker[Session], clock: Clock) -> None:
    """Bump the revision in every flush that writes the catalogue, at ``clock``'s instant:
    the writing process's wall clock, which pages and feeds give as their Last-Modified
    (a reader's clock plays no part in it)."""

    def bump_on_catalogue_writes(session: Session, _context: Any) -> None:
        dirty = (row for row in session.dirty if session.is_modified(row))
        rows = (*session.new, *session.deleted, *dirty)
        if any(getattr(row, "__tablename__", None) in CATALOG_TABLES for row in rows):
            bump(session.connection(), clock.now())

    event.listen(factory, "after_flush", bump_on_catalogue_writes)
