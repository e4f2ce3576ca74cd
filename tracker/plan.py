"""The plan: when each piece of timed work is next due, one row per kind and key.

Whoever changes what a due time depends on writes it in the same transaction (the
healthchecks ``alert_after`` pattern), so the daemon's tick is one indexed query for the
rows due now, whichever process made the edit. Edits to deadlines, meetings, history
rows and subscribers are marked "due now" by a session hook installed on every session
factory (:func:`watch`): the catalog knows nothing of alerts, and the daemon works out
the precise next instant when it takes the mark. The outbox writes the delivery row
itself (its inserts and outcomes go through Core, which no session hook sees).

A writer only ever moves a row earlier (:func:`mark`); the daemon takes the rows due
(:func:`take`, a delete in its own transaction) and writes each one's next instant.
A mark that comes too early costs one empty pass; one that comes too late cannot happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Index,
    String,
    Table,
    UniqueConstraint,
    case,
    delete,
    event,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tracker.db import Base

# Before any clock reading: a mark that is due at once.
DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)


class Work(StrEnum):
    ITEM = "item"  # key "deadline:<slug>" / "meeting:<slug>": its next alert instant
    CHANGE = "change"  # key: a history row's id, to become a change notice
    DIGEST = "digest"  # key "<frequency>:<zone>": the next digest period of that group
    DELIVERY = "delivery"  # key "": the earliest next attempt of a pending delivery
    SWEEP = "sweep"  # key "": plan every item within reach again (daily, new subscribers)


class PlanEntry(Base):
    __tablename__ = "plan"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_plan_kind_key"),
        Index("ix_plan_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]


Mark = tuple[str, str, datetime]
_PLAN = cast(Table, PlanEntry.__table__)


def mark(connection: Connection, marks: Iterable[Mark]) -> None:
    """Write each (kind, key, due_at), keeping the earlier instant where a row exists."""
    rows = [{"kind": kind, "key": key, "due_at": due_at} for kind, key, due_at in marks]
    if not rows:
        return
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_PLAN)
    earlier = case(
        (statement.excluded.due_at < _PLAN.c.due_at, statement.excluded.due_at),
        else_=_PLAN.c.due_at,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[_PLAN.c.kind, _PLAN.c.key], set_={"due_at": earlier}
    )
    for start in range(0, len(rows), 500):
        connection.execute(upsert, rows[start : start + 500])


def due(connection: Connection, now: datetime) -> tuple[list[tuple[str, str]], datetime | None]:
    """The rows due by ``now`` and the first instant after it: one statement, two index
    lookups, whatever the size of the schedule."""
    later = select(func.min(_PLAN.c.due_at)).where(_PLAN.c.due_at > now).scalar_subquery()
    rows = connection.execute(
        union_all(
            select(_PLAN.c.kind, _PLAN.c.key, _PLAN.c.due_at).where(_PLAN.c.due_at <= now),
            select(_PLAN.c.kind, _PLAN.c.key, _PLAN.c.due_at).where(_PLAN.c.due_at == later),
        )
    ).all()
    found = [(kind, key) for kind, key, at in rows if at <= now]
    return found, min((at for _, _, at in rows if at > now), default=None)


def take(
    session: Session, now: datetime, kinds: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """Remove and return the rows due by ``now`` (of ``kinds``, or all): the caller does
    that work and writes the next instants in the same transaction."""
    query = delete(_PLAN).where(_PLAN.c.due_at <= now)
    if kinds is not None:
        query = query.where(_PLAN.c.kind.in_(kinds))
    return [
        (kind, key) for kind, key in session.execute(query.returning(_PLAN.c.kind, _PLAN.c.key))
    ]


def watch(factory: sessionmaker[Session]) -> None:
    """Mark the work an edit implies, in the edit's own flush (see the module's text)."""
    event.listen(factory, "after_flush", _marks)


def _marks(session: Session, _context: Any) -> None:
    marks: set[Mark] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", None)
        if table in ("deadlines", "meetings"):
            marks.add((Work.ITEM.value, f"{table[:-1]}:{row.slug}", DUE_NOW))
        elif table == "changes" and row in session.new:
            marks.add((Work.CHANGE.value, str(row.id), DUE_NOW))
        elif table == "subscribers":
            marks.add((Work.SWEEP.value, "", DUE_NOW))
    if marks:
        mark(session.connection(), sorted(marks))
