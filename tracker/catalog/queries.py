"""Selecting deadlines and meetings by date window, treaty and kind, in SQL."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from tracker.catalog.models import Deadline, DeadlineKind, Meeting, MeetingKind
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW
from tracker.errors import InvalidInput, NotFound

# A filter's --kind may name a deadline's kind or a meeting's (one agenda lists both).
KINDS = sorted({kind.value for kind in DeadlineKind} | {kind.value for kind in MeetingKind})


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
    return _by_slug(session, Deadline, slug, "tracker deadline list --all")


def meeting(session: Session, slug: str) -> Meeting:
    return _by_slug(session, Meeting, slug, "tracker meeting list --all")


def treaty(session: Session, slug: str) -> Treaty:
    return _by_slug(session, Treaty, slug, "tracker treaty list")


RowT = TypeVar("RowT", Deadline, Meeting, Treaty)


def _by_slug(session: Session, model: type[RowT], slug: str, listing: str) -> RowT:
    found = session.scalar(select(model).where(model.slug == slug))
    if found is None:
        known = session.scalars(select(model.slug))
        raise NotFound(unknown(model.__name__.lower(), slug, known, listing))
    return found


def unknown(what: str, name: str, known: Iterable[str], listing: str) -> str:
    """One line naming the unknown ``name`` and the closest known one, if any is close."""
    return f"no {what} {name!r}{_closest(name, known)} (see `{listing}`)"


def _closest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; closest: {close[0]!r}" if close else ""


def check_treaties(session: Session, slugs: Iterable[str]) -> None:
    """Raise NotFound for the first slug that names no treaty (a filter naming one would
    match nothing, silently)."""
    wanted = set(slugs)
    if not wanted:
        return
    known = set(session.scalars(select(Treaty.slug)))
    for slug in sorted(wanted - known):
        raise NotFound(unknown("treaty", slug, known, "tracker treaty list"))


def check_kinds(kinds: Iterable[str]) -> None:
    """Raise InvalidInput for the first kind that no deadline or meeting can have."""
    for kind in kinds:
        if kind not in KINDS:
            hint = _closest(kind, KINDS)
            raise InvalidInput(f"unknown kind {kind!r}{hint} (one of {', '.join(KINDS)})")


def check_filter(session: Session, flt: Filter) -> None:
    """Refuse a filter naming a treaty or kind that does not exist."""
    check_kinds(flt.kinds)
    check_treaties(session, [flt.treaty] if flt.treaty else [])
