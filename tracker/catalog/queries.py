"""Selecting deadlines and meetings by date window, treaty and kind, in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW
from tracker.errors import NotFound


class Scope(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"
    ALL = "all"


@dataclass(frozen=True)
class Filter:
    """What a listing asks for; ``today`` is the as-of date in the reader's zone."""

    today: date
    scope: Scope = Scope.UPCOMING
    within: timedelta | None = None
    treaty: str | None = None
    kinds: tuple[str, ...] = ()
    passed_grace: timedelta = timedelta(0)


def line_loading(model: type[Deadline] | type[Meeting]) -> LoaderOption:
    """The treaty a board or agenda line names, without the treaty's own sources and events:
    three more queries per listing for what no line shows (they load if touched)."""
    return joinedload(model.treaty).lazyload("*")


def _window_filter(
    query: Select[Any],
    earliest: Any,
    latest: Any,
    flt: Filter,
    longest: timedelta | None = None,
) -> Select[Any]:
    """``longest``: no item spans more, so a bound on ``latest`` also bounds ``earliest``,
    which the index on (earliest, latest) can start its scan from."""
    since = None
    if flt.scope is Scope.UPCOMING:
        since = flt.today - flt.passed_grace
    elif flt.scope is Scope.PAST:
        query = query.where(latest < flt.today)
    if flt.within is not None:
        horizon = flt.today + flt.within
        if flt.scope is Scope.PAST:
            since = flt.today - flt.within
        else:
            query = query.where(earliest <= horizon)
    if since is not None:
        query = query.where(latest >= since)
        if longest is not None:
            query = query.where(earliest >= since - longest)
    return query


def _common(query: Select[Any], model: type[Deadline] | type[Meeting], flt: Filter) -> Select[Any]:
    if flt.treaty:
        query = query.join(Treaty, model.treaty_id == Treaty.id).where(Treaty.slug == flt.treaty)
    if flt.kinds:
        query = query.where(model.kind.in_(flt.kinds))
    return query


def deadlines(session: Session, flt: Filter) -> list[Deadline]:
    query = _window_filter(
        select(Deadline), Deadline.due_earliest, Deadline.due_latest, flt, LONGEST_WINDOW
    )
    query = _common(query, Deadline, flt).options(line_loading(Deadline))
    return list(session.scalars(query.order_by(Deadline.due_earliest, Deadline.slug)))


def meetings(session: Session, flt: Filter, *, include_undated: bool = False) -> list[Meeting]:
    """Dated meetings in the window, recurring ones (expanded by the caller), undated if asked."""
    end = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    dated = _window_filter(select(Meeting.id), Meeting.starts_earliest, end, flt)
    conditions = [
        Meeting.id.in_(dated.where(Meeting.starts_earliest.is_not(None))),
        and_(Meeting.recurrence.is_not(None), Meeting.starts_earliest.is_not(None)),
    ]
    if include_undated:
        conditions.append(Meeting.starts_earliest.is_(None))
    query = _common(select(Meeting).where(or_(*conditions)), Meeting, flt)
    query = query.options(line_loading(Meeting))
    return list(
        session.scalars(
            query.order_by(Meeting.starts_earliest.is_(None), Meeting.starts_earliest, Meeting.slug)
        )
    )


def deadline(session: Session, slug: str) -> Deadline:
    found = session.scalar(select(Deadline).where(Deadline.slug == slug))
    if found is None:
        raise NotFound(f"no deadline {slug!r} (see `tracker deadline list --all`)")
    return found


def meeting(session: Session, slug: str) -> Meeting:
    found = session.scalar(select(Meeting).where(Meeting.slug == slug))
    if found is None:
        raise NotFound(f"no meeting {slug!r} (see `tracker meeting list --all`)")
    return found


def treaty(session: Session, slug: str) -> Treaty:
    found = session.scalar(select(Treaty).where(Treaty.slug == slug))
    if found is None:
        raise NotFound(f"no treaty {slug!r} (see `tracker treaty list`)")
    return found
