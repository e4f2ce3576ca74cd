"""The board: which deadlines ``tracker countdown`` shows, and everything the board page shows.

One definition of "on the board", :func:`on_board`: deadlines not cancelled or superseded
whose window has not closed longer ago than a span. ``tracker countdown``, the JSON API's
countdowns and the digests' board take their deadlines from it. The page
(:func:`board`), narrowed by a :class:`~tracker.views.filters.BoardFilter`, shows:

- its sections, "in session now", "next 30 days" and "later", and "recently changed"
  (:mod:`tracker.views.sections`, where each item goes and why);
- "Date to be announced": deadlines and meetings without a date, at most :data:`UNDATED_SHOWN`
  (never hidden for having no date; the countdown and the agenda have no place for them);
- the timeline: a lane per treaty, and marks for the deadlines and meetings from
  :data:`TIMELINE_PAST` back to the chart's end, the :data:`TIMELINE_MARKS` nearest to today
  (a recurring meeting: its occurrences within the sections' year).

Every query is bounded, so the board costs the same with a hundred deadlines or 100k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, union
from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Deadline, DeadlineStatus, Meeting, MeetingStatus
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW, DateWindow, Precision, zone
from tracker.errors import NotFound
from tracker.views import conditions, knowledge
from tracker.views.filters import CONFIDENCES, EVERYTHING, KINDS, BoardFilter
from tracker.views.items import Item, deadline_item, from_deadline, meeting_items
from tracker.views.knowledge import Knowledge
from tracker.views.sections import (
    RECENT_CHANGES,
    Changed,
    Sections,
    ahead,
    recently_changed,
    sections,
)
from tracker.views.timeline import Timeline, timeline
from tracker.views.treaties import list_treaties, treaty_dict

HIDDEN = (DeadlineStatus.CANCELLED.value, DeadlineStatus.SUPERSEDED.value)
# `tracker countdown`: the nearest BOARD_SIZE, so it costs the same on any size of database.
RECENTLY_PASSED = timedelta(days=30)
BOARD_SIZE = 50
# The page.
UNDATED_SHOWN = 50
TIMELINE_PAST = timedelta(days=3 * 365)
TIMELINE_MARKS = 300


def on_board(since: date) -> Select[Deadline]:
    """Deadlines shown (not cancelled or superseded) whose window closed on or after
    ``since``, nearest first. A deadline still pending long after its window (never
    marked met or missed) is left off: by date it would push every coming one off the top.
    """
    return (
        select(Deadline)
        .options(queries.line_loading(Deadline))
        .where(
            Deadline.status.not_in(HIDDEN),
            Deadline.due_latest >= since,
            # Implied by the line above; it lets the index on due_earliest start the scan
            # here instead of at the oldest deadline.
            Deadline.due_earliest >= since - LONGEST_WINDOW,
        )
        .order_by(Deadline.due_earliest, Deadline.slug)
    )


def select_countdowns(
    session: Session,
    slugs: Sequence[str],
    *,
    today: date,
    recent: timedelta = RECENTLY_PASSED,
    limit: int | None = None,
) -> list[Deadline]:
    """Deadlines named by slug (a deadline, or a treaty for all of its), else those on the
    board passed at most ``recent`` ago, in date order, the first ``limit``."""
    if not slugs:
        return list(session.scalars(on_board(today - recent).limit(limit)))
    treaty_ids = select(Treaty.id).where(Treaty.slug.in_(slugs))
    query = (
        select(Deadline)
        .options(queries.line_loading(Deadline))
        .where(or_(Deadline.slug.in_(slugs), Deadline.treaty_id.in_(treaty_ids)))
        .order_by(Deadline.due_earliest, Deadline.slug)
    )
    found = list(session.scalars(query.limit(limit)))
    _check_named(session, slugs, found)
    return found


def _check_named(session: Session, slugs: Sequence[str], found: Sequence[Deadline]) -> None:
    """Raise NotFound for the first slug that names no deadline or treaty."""
    shown = {d.slug for d in found} | {d.treaty.slug for d in found if d.treaty}
    unseen = [slug for slug in slugs if slug not in shown]
    if not unseen:
        return
    # A treaty without deadlines, or a deadline past the limit, is known but not shown.
    known = set(session.scalars(select(Treaty.slug).where(Treaty.slug.in_(unseen))))
    known |= set(session.scalars(select(Deadline.slug).where(Deadline.slug.in_(unseen))))
    missing = [slug for slug in unseen if slug not in known]
    if missing:
        raise NotFound(f"no deadline or treaty {missing[0]!r}")


@dataclass(frozen=True)
class Board:
    """What the board page shows, as of an instant, narrowed by ``only``."""

    title: str
    today: date
    as_of: datetime
    sections: Sections
    changed: list[Changed]
    treaties: list[dict[str, Any]]
    timeline: Timeline
    undated: list[Item] = field(default_factory=list)
    only: BoardFilter = EVERYTHING
    kinds: tuple[str, ...] = KINDS
    confidences: tuple[str, ...] = CONFIDENCES
    bodies: tuple[str, ...] = ()  # every body or forum an item names, for the filter

    @property
    def treaty_names(self) -> dict[str, str]:
        """Each treaty's short name by slug, as the board names an item's treaty."""
        return {t["slug"]: t["short_name"] or t["name"] for t in self.treaties}

    def valid_until(self, zones: Iterable[str]) -> datetime:
        """The first instant the same rows could give a different page (see
        :func:`valid_until`), or a change leaves "recently changed". Undated items do not
        age."""
        shown = [*self.sections.shown(), *(c.item for c in self.changed)]
        until = valid_until(shown, zones, self.as_of)
        leaving = [c.at + RECENT_CHANGES for c in self.changed]
        return min([until, *(t for t in leaving if t > self.as_of)])


def valid_until(shown: Iterable[Item], zones: Iterable[str], as_of: datetime) -> datetime:
    """The first instant after ``as_of`` at which the same rows could be shown otherwise: a
    midnight in a zone a countdown or date is counted in, or a timed item starting or
    ending (today becomes earlier today; a meeting goes into session, or awaits its
    outcome)."""
    shown = list(shown)
    midnights = []
    for name in {*zones, "UTC", *(e.when.tz or e.tz for e in shown)}:
        local = zone(name)
        tomorrow = as_of.astimezone(local).date() + timedelta(days=1)
        midnights.append(datetime.combine(tomorrow, time(0), local))
    timed = [
        w.start(e.tz)
        for e in shown
        for w in (e.when, e.ends)
        if w is not None and w.precision is Precision.TIME
    ]
    return min([*midnights, *(t for t in timed if t > as_of)]).astimezone(UTC)


def undated(
    session: Session,
    as_of: datetime,
    limit: int = UNDATED_SHOWN,
    only: BoardFilter = EVERYTHING,
    known: Knowledge | None = None,
) -> list[Item]:
    """Deadlines and meetings whose date is to be announced, by title; not those cancelled
    (or superseded), whose date nobody will announce. Two bounded queries (the treaty
    joined, as for the sections); as ``known`` when given."""
    deadlines = (
        select(Deadline)
        .options(queries.line_loading(Deadline))
        .where(Deadline.due_earliest.is_(None), Deadline.status.not_in(HIDDEN))
        .order_by(Deadline.title, Deadline.slug)
        .limit(limit)
    )
    meetings = (
        select(Meeting)
        .options(queries.line_loading(Meeting))
        .where(Meeting.starts_earliest.is_(None), Meeting.status != MeetingStatus.CANCELLED.value)
        .order_by(Meeting.title, Meeting.slug)
        .limit(limit)
    )
    deadlines, meetings = only.narrow(deadlines, Deadline), only.narrow(meetings, Meeting)
    found_deadlines, found_meetings = (
        list(session.scalars(deadlines)),
        list(session.scalars(meetings)),
    )
    if known is not None:
        keep, tba = conditions.undated_shown(only, as_of), conditions.to_be_announced
        found_deadlines = knowledge.relist(session, known, Deadline, found_deadlines, keep, tba)
        found_meetings = knowledge.relist(session, known, Meeting, found_meetings, keep, tba)
    items = [from_deadline(row, as_of) for row in found_deadlines]
    for row in found_meetings:
        # Undated, so not recurring: the meeting itself, whatever the range.
        items += meeting_items(row, as_of, date.min, date.min)
    return sorted(items, key=lambda i: (i.title.casefold(), i.slug))[:limit]


def _timeline_marks(
    session: Session,
    today: date,
    last: date,
    as_of: datetime,
    table: Sequence[Item],
    only: BoardFilter = EVERYTHING,
    known: Knowledge | None = None,
) -> list[Item]:
    """The deadlines and meetings between TIMELINE_PAST ago and ``last``, nearest first,
    narrowed by ``only``. Deadlines are read as columns (a mark needs no sources). A
    recurring meeting is marked where the board's sections have it (the next year):
    expanding its rule over the whole chart again cost more than the rest of the board."""
    first = today - TIMELINE_PAST
    columns = select(
        Deadline.id,
        Deadline.slug,
        Deadline.title,
        Deadline.kind,
        Deadline.due_text,
        Deadline.due_earliest,
        Deadline.due_latest,
        Deadline.due_precision,
        Deadline.due_time,
        Deadline.tz,
        Deadline.status,
        Deadline.confidence,
        Deadline.status_on,
        Deadline.body,
        Treaty.slug.label("treaty_slug"),
    ).outerjoin(Treaty, Deadline.treaty_id == Treaty.id)
    window = only.narrow(columns, Deadline)
    window = window.where(Deadline.status.not_in(HIDDEN), Deadline.due_earliest <= last)
    ahead = window.where(Deadline.due_earliest >= today).order_by(Deadline.due_earliest)
    behind = window.where(Deadline.due_earliest < today, Deadline.due_earliest >= first)
    rows = [
        *session.execute(ahead.limit(TIMELINE_MARKS)),
        *session.execute(behind.order_by(Deadline.due_earliest.desc()).limit(TIMELINE_MARKS)),
    ]
    if known is not None:  # those revised since: as then known, below
        revised = known.revised("deadline", [row.id for row in rows])
        rows = [row for row in rows if known.known("deadline", row.id) and row.id not in revised]
    marks = [deadline_item(row, as_of, treaty=row.treaty_slug, body=row.body) for row in rows]
    if known is not None:  # a status as then known (knowledge.Knowledge.reached)
        marks = [replace(m, status_on=None) if known.reached(m.status_on) else m for m in marks]
    kinds = (only.kind,) if only.kind else ()
    flt = queries.Filter(today=first, within=last - first, treaty=only.treaty, kinds=kinds)
    found = queries.meetings(session, flt)
    if known is not None:
        marks += [from_deadline(row, as_of) for row in _revised_marks(session, known, first, last)]
        found = knowledge.relist(session, known, Meeting, found, conditions.meeting(flt))
    for meeting in found:
        if not meeting.recurrence:
            marks += meeting_items(meeting, as_of, first, last)
    recurring = set(session.scalars(select(Meeting.slug).where(Meeting.recurrence.is_not(None))))
    marks += [item for item in table if item.slug in recurring]
    marks = [item for item in marks if only.matches(item)]
    nearest = sorted(marks, key=lambda i: (abs((i.when.earliest - today).days), i.title))
    return nearest[:TIMELINE_MARKS]


def _revised_marks(session: Session, known: Knowledge, first: date, last: date) -> list[Deadline]:
    """The deadlines revised since ``known.at`` that the timeline marks as then known
    (shown, due between ``first`` and ``last``; narrowed with the other marks)."""

    def keep(row: Deadline) -> bool:
        due = row.due_earliest
        return row.status not in HIDDEN and due is not None and first <= due <= last

    def could_be(window: DateWindow | None) -> bool:
        return window is not None and first <= window.earliest <= last

    return knowledge.relist(
        session, known, Deadline, [], keep, knowledge.Dates(could_be, first, last)
    )


def board(
    session: Session,
    *,
    title: str,
    timezone: str,
    as_of: datetime,
    only: BoardFilter = EVERYTHING,
    known_at: datetime | None = None,
) -> Board:
    """The board page's data as of ``as_of``, its days counted in ``timezone``, narrowed
    by ``only`` (raises NotFound for an unknown treaty); with ``known_at``, as then known."""
    only.check(session)
    known = knowledge.load(session, known_at)
    today = as_of.astimezone(zone(timezone)).date()
    # First: the items' treaties are then found in the session, not joined to every row.
    treaties = list_treaties(session)
    shown = sections(ahead(session, today, as_of, only, known))
    lanes = [t for t in treaties if only.treaty in (None, t.slug)]
    chart = timeline(lanes, [], today)
    marks = _timeline_marks(session, today, chart.last, as_of, shown.shown(), only, known)
    return Board(
        title=title,
        today=today,
        as_of=as_of,
        sections=shown,
        changed=recently_changed(session, as_of, only, known=known),
        treaties=[treaty_dict(t, today) for t in treaties],
        timeline=timeline(lanes, marks, today),
        undated=undated(session, as_of, only=only, known=known),
        only=only,
        bodies=bodies(session),
    )


def bodies(session: Session) -> tuple[str, ...]:
    """Every body or forum a deadline or meeting names, in order (two index scans)."""
    named = union(
        select(Deadline.body).where(Deadline.body.is_not(None)),
        select(Meeting.body).where(Meeting.body.is_not(None)),
    )
    return tuple(sorted(session.scalars(select(named.subquery().c.body)), key=str.casefold))


def countdowns(
    session: Session,
    slugs: Sequence[str] = (),
    *,
    today: date,
    as_of: datetime,
    limit: int | None = BOARD_SIZE,
    known_at: datetime | None = None,
) -> list[Item]:
    """``tracker countdown`` and ``/api/countdowns``: the named deadlines, else the board's;
    with ``known_at``, as then known."""
    chosen = select_countdowns(session, slugs, today=today, limit=limit)
    known = knowledge.load(session, known_at)
    if known is not None:
        keep = conditions.named(slugs) if slugs else conditions.on_board(today - RECENTLY_PASSED)
        chosen = knowledge.relist(session, known, Deadline, chosen, keep)
        chosen = sorted(chosen, key=lambda d: (d.due_earliest or date.min, d.slug))[:limit]
    return [from_deadline(deadline, as_of) for deadline in chosen]


def known_undated(
    session: Session, found: Sequence[Deadline], known_at: datetime | None
) -> list[Deadline]:
    """Deadlines to be announced (``queries.undated_deadlines`` of no filter) as known."""
    keep, tba = conditions.undated(queries.Filter(today=date.min)), conditions.to_be_announced
    return knowledge.relist(session, knowledge.load(session, known_at), Deadline, found, keep, tba)
