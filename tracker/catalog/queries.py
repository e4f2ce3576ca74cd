"""Selecting deadlines and meetings by date window, treaty and kind, in SQL."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from tracker.catalog.models import Deadline, DeadlineKind, Meeting, MeetingKind
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW
from tracker.errors import InvalidInput, NotFound

DEADLINE_KINDS = sorted(kind.value for kind in DeadlineKind)
MEETING_KINDS = sorted(kind.value for kind in MeetingKind)
# A filter's --kind may name a deadline's kind or a meeting's (one agenda lists both).
KINDS = sorted({*DEADLINE_KINDS, *MEETING_KINDS})


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
    # Also the items whose date is to be announced (a listing never hides them: they may
    # fall on any day, so no date window leaves them out; sorted last).
    undated: bool = False


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
    which the index on (earliest, latest) can start its scan from. A filter that asks for
    the undated too (``flt.undated``) keeps the rows without a date (to be announced)."""
    dated = and_(true(), *_window_conditions(earliest, latest, flt, longest))
    # A date to be announced is never in the past.
    undated = flt.undated and flt.scope is not Scope.PAST
    return query.where(or_(dated, earliest.is_(None)) if undated else dated)


def _window_conditions(
    earliest: Any, latest: Any, flt: Filter, longest: timedelta | None
) -> list[ColumnElement[bool]]:
    conditions = []
    since = None
    if flt.scope is Scope.UPCOMING:
        since = flt.today - flt.passed_grace
    elif flt.scope is Scope.PAST:
        conditions.append(latest < flt.today)
    if flt.within is not None:
        horizon = flt.today + flt.within
        if flt.scope is Scope.PAST:
            since = flt.today - flt.within
        else:
            conditions.append(earliest <= horizon)
    if since is not None:
        conditions.append(latest >= since)
        if longest is not None:
            conditions.append(earliest >= since - longest)
    return conditions


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
    # Undated last on every database (SQLite sorts NULL first, PostgreSQL last).
    order = Deadline.due_earliest.is_(None), Deadline.due_earliest, Deadline.slug
    return list(session.scalars(query.order_by(*order)))


def undated_deadlines(session: Session, flt: Filter) -> list[Deadline]:
    """Deadlines whose date is to be announced, of the filter's treaty and kinds, by slug
    (``tracker upcoming --undated``)."""
    query = _common(select(Deadline).where(Deadline.due_earliest.is_(None)), Deadline, flt)
    return list(session.scalars(query.options(line_loading(Deadline)).order_by(Deadline.slug)))


def undated_meetings(session: Session, flt: Filter) -> list[Meeting]:
    """Meetings whose start is to be announced, as :func:`undated_deadlines`."""
    query = _common(select(Meeting).where(Meeting.starts_earliest.is_(None)), Meeting, flt)
    return list(session.scalars(query.options(line_loading(Meeting)).order_by(Meeting.slug)))


def meetings(session: Session, flt: Filter, *, include_undated: bool = False) -> list[Meeting]:
    """Dated meetings in the window, recurring ones (expanded by the caller), undated if asked
    (``include_undated`` or ``flt.undated``; last)."""
    end = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    dated = _window_filter(
        select(Meeting.id), Meeting.starts_earliest, end, replace(flt, undated=False)
    )
    conditions = [
        Meeting.id.in_(dated.where(Meeting.starts_earliest.is_not(None))),
        and_(Meeting.recurrence.is_not(None), Meeting.starts_earliest.is_not(None)),
    ]
    if include_undated or (flt.undated and flt.scope is not Scope.PAST):
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


def unknown(
    what: str, name: str, known: Iterable[str], listing: str, *, cutoff: float = 0.6
) -> str:
    """One line naming the unknown ``name`` and the closest known one, if any is as close
    as ``cutoff`` (0: whichever is closest)."""
    return f"no {what} {name!r}{_closest(name, known, cutoff)} (see `{listing}`)"


def _closest(name: str, known: Iterable[str], cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=cutoff)
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


def check_kinds(kinds: Iterable[str], known: Iterable[str] = KINDS, what: str = "kind") -> None:
    """Raise InvalidInput for the first kind not among ``known`` (by default any kind a
    deadline or a meeting can have)."""
    allowed = list(known)
    for kind in kinds:
        if kind not in allowed:
            hint = _closest(kind, allowed)
            raise InvalidInput(f"unknown {what} {kind!r}{hint} (one of {', '.join(allowed)})")


def check_deadlines_or_treaties(session: Session, slugs: Iterable[str]) -> None:
    """Raise NotFound for the first slug naming neither a deadline nor a treaty (what
    ``tracker countdown SLUG`` takes), with the closest of either."""
    wanted = set(slugs)
    if not wanted:
        return
    known = set(session.scalars(select(Deadline.slug))) | set(session.scalars(select(Treaty.slug)))
    for slug in sorted(wanted - known):
        listing = "tracker deadline list --all"
        raise NotFound(unknown("deadline or treaty", slug, known, listing, cutoff=0))


def check_filter(session: Session, flt: Filter, type_: str | None = None) -> None:
    """Refuse a filter naming a treaty or kind that does not exist (for a listing of one
    ``type_``, ``deadline`` or ``meeting``: a kind that type has)."""
    if type_ == "deadline":
        check_kinds(flt.kinds, DEADLINE_KINDS, "deadline kind")
    elif type_ == "meeting":
        check_kinds(flt.kinds, MEETING_KINDS, "meeting kind")
    else:
        check_kinds(flt.kinds)
    check_treaties(session, [flt.treaty] if flt.treaty else [])
