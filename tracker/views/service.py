"""The agenda for every reader: upcoming items, listings and one item in full.

The board and countdowns are in :mod:`tracker.views.board`, treaties in
:mod:`tracker.views.treaties`; each returns the read model (:class:`Item`) or its JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker.catalog import claims, history, queries
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.dates import MAX_YEAR, zone
from tracker.views import conditions, knowledge
from tracker.views.items import Item, agenda, from_deadline, from_meeting, occurrences_between
from tracker.views.knowledge import Knowledge

# Every listing of meetings starts here: before the first meeting anyone records.
EARLIEST = date(1800, 1, 1)
# `meeting show`: a series' occurrences left, at most this many listed; one without end
# is looked ahead this many days (its count is not given).
SHOWN_OCCURRENCES = 20
SERIES_HORIZON = 3653
_NOT_TO_BE_ANNOUNCED = frozenset({"cancelled", "superseded"})


def upcoming(
    session: Session, flt: queries.Filter, as_of: datetime, known_at: datetime | None = None
) -> list[Item]:
    """``tracker upcoming`` and ``/api/upcoming``: deadlines and meeting occurrences
    within ``flt.within`` of ``flt.today``, in date order; with ``known_at``, as then
    known (:mod:`tracker.views.knowledge`)."""
    known = knowledge.load(session, known_at)
    end = flt.today + (flt.within or timedelta(0))
    return agenda(_deadlines(session, flt, known), _meetings(session, flt, known), as_of,
                  flt.today, end)  # fmt: skip


def _deadlines(session: Session, flt: queries.Filter, known: Knowledge | None) -> list[Deadline]:
    """``queries.deadlines`` as known (in its order: undated last, by date, by slug)."""
    found = queries.deadlines(session, flt)
    if known is None:
        return found
    keep, could_be = conditions.deadline(flt), conditions.deadline_due(flt)
    listed = knowledge.relist(session, known, Deadline, found, keep, could_be)
    return sorted(listed, key=lambda d: (d.due_earliest is None, d.due_earliest or EARLIEST,
                                         d.slug))  # fmt: skip


def _meetings(session: Session, flt: queries.Filter, known: Knowledge | None) -> list[Meeting]:
    """``queries.meetings`` as known (in its order)."""
    found = queries.meetings(session, flt)
    if known is None:
        return found
    keep, could_be = conditions.meeting(flt), conditions.meeting_start(flt)
    listed = knowledge.relist(session, known, Meeting, found, keep, could_be)
    return sorted(listed, key=lambda m: (m.starts_earliest is None,
                                         m.starts_earliest or EARLIEST, m.slug))  # fmt: skip


def undated(
    session: Session, flt: queries.Filter, as_of: datetime, known_at: datetime | None = None
) -> list[Item]:
    """``tracker upcoming --undated``: deadlines and meetings whose date is to be announced
    (of the filter's treaty and kinds; no date window holds them), deadlines first. Those
    cancelled or superseded are left out, as on the board: nobody will announce their date
    (``deadline list`` and ``meeting list`` still show them)."""
    known = knowledge.load(session, known_at)
    keep = conditions.undated(flt)
    found_deadlines = queries.undated_deadlines(session, flt)
    found_meetings = queries.undated_meetings(session, flt)
    if known is not None:
        tba = conditions.to_be_announced
        found_deadlines = knowledge.relist(session, known, Deadline, found_deadlines, keep, tba)
        found_meetings = knowledge.relist(session, known, Meeting, found_meetings, keep, tba)
    found = [from_deadline(d, as_of) for d in sorted(found_deadlines, key=_slug)]
    found += [from_meeting(m, as_of) for m in sorted(found_meetings, key=_slug)]
    return [item for item in found if item.status not in _NOT_TO_BE_ANNOUNCED]


def _slug(row: Deadline | Meeting) -> str:
    return row.slug


def deadlines(
    session: Session, flt: queries.Filter, as_of: datetime, known_at: datetime | None = None
) -> list[Item]:
    """``tracker deadline list``; with ``flt.undated``, those to be announced last."""
    found = _deadlines(session, flt, knowledge.load(session, known_at))
    return [from_deadline(deadline, as_of) for deadline in found]


def meetings(
    session: Session,
    flt: queries.Filter,
    as_of: datetime,
    horizon: timedelta,
    known_at: datetime | None = None,
) -> list[Item]:
    """``tracker meeting list``: recurring meetings by their occurrences up to ``flt.within``
    (else ``horizon``) ahead; past ones from the first on record; with ``flt.undated``,
    those to be announced last."""
    end = flt.today + (flt.within or horizon)
    found = _meetings(session, flt, knowledge.load(session, known_at))
    tba = [from_meeting(m, as_of) for m in found if m.starts_earliest is None]
    if flt.scope is queries.Scope.UPCOMING:
        return agenda((), found, as_of, flt.today, end) + tba
    items = agenda((), found, as_of, EARLIEST, end)
    if flt.scope is queries.Scope.PAST:
        return [item for item in items if item.when.latest < flt.today]
    return items + tba


def deadline(
    session: Session,
    slug: str,
    as_of: datetime,
    base_url: str | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """``tracker deadline show --json``: the deadline, its leads, notes, claims and history
    (with ``base_url``, the ``link`` of its page); with ``known_at``, as then known."""
    found = queries.deadline(session, slug)
    known = knowledge.load(session, known_at)
    shown = knowledge.as_known(session, known, found)
    return {
        **from_deadline(shown, as_of).as_dict(base_url),
        "alert_leads": shown.alert_leads,
        "notes": shown.notes,
        **_claims(session, found),
        "history": changes_as_dicts(_history(session, known, found)),
    }


def meeting(
    session: Session,
    slug: str,
    as_of: datetime,
    base_url: str | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """``tracker meeting show --json``: the meeting (a recurring one as its next
    occurrence, with its rule, its end and the occurrences left), its delegations, outcome,
    claims and history; with ``known_at``, as then known."""
    found = queries.meeting(session, slug)
    known = knowledge.load(session, known_at)
    shown = knowledge.as_known(session, known, found)
    item = from_meeting(shown, as_of)
    recurring = item.recurrence and not item.when.is_tba
    data = series(item, base_url) if recurring else item.as_dict(base_url)
    return {
        **data,
        "recurrence": shown.recurrence,
        "delegations": shown.delegations,
        "outcome": shown.outcome,
        **_claims(session, found),
        "history": changes_as_dicts(_history(session, known, found)),
    }


def _history(session: Session, known: Knowledge | None, found: Deadline | Meeting) -> list[Change]:
    changes = history.history(session, found)
    return changes if known is None else [c for c in changes if known.allows(c)]


def series(item: Item, base_url: str | None = None) -> dict[str, Any]:
    """A recurring meeting as its next occurrence (as of the item's instant; the first one
    when none is left), with the series' first day, its end (``UNTIL``/``COUNT``, null when
    it has none) and the occurrences left: at most :data:`SHOWN_OCCURRENCES`, and their
    count when the series ends (null: it goes on)."""
    assert item.recurrence is not None
    today = item.as_of.astimezone(zone(item.tz)).date()
    end_rule = recurrence_end(item.recurrence)
    if end_rule is None:  # from today, since it goes on
        start, horizon = today - (item.when.latest - item.when.earliest), today
        horizon += timedelta(days=SERIES_HORIZON)
    else:  # from its first day, to find its last (dateutil stops at the end)
        start, horizon = item.when.earliest, date(MAX_YEAR, 12, 31)
    found = occurrences_between(item, start, horizon)
    left = [o for o in found if o.countdown.status.value != "passed"]
    shown = left[0] if left else item
    if end_rule is not None:
        end_rule["last"] = found[-1].when.earliest.isoformat() if found else None
    return {
        **shown.as_dict(base_url),
        "recurrence_starts": item.when.text,
        "recurrence_end": end_rule,
        "next_occurrence": _occurrence(left[0]) if left else None,
        "remaining_occurrences": [_occurrence(o) for o in left[:SHOWN_OCCURRENCES]],
        "remaining_count": len(left) if end_rule is not None else None,
    }


def _occurrence(occurrence: Item) -> dict[str, Any]:
    keys = ("when", "earliest", "latest", "precision", "human", "status")
    whole = occurrence.as_dict()
    return {key: whole[key] for key in keys}


def recurrence_end(rule: str) -> dict[str, Any] | None:
    """A rule's end as ``{"until": ISO day or None, "count": n or None}``; None when the
    series goes on without end."""
    parts = dict(part.partition("=")[::2] for part in rule.upper().split(";") if part)
    until, count = parts.get("UNTIL"), parts.get("COUNT")
    if not until and not count:
        return None
    day = None
    if until:
        day = date(int(until[:4]), int(until[4:6]), int(until[6:8])).isoformat()
    return {"until": day, "count": int(count) if count else None}


def _claims(session: Session, found: Deadline | Meeting) -> dict[str, Any]:
    """What each source says of the item's fields, and whether any disagree."""
    fields = claims.of_item(session, found)
    return {
        "claims": [field.as_dict() for field in fields],
        "conflicting": any(field.conflicting for field in fields),
    }


def item(
    session: Session,
    type_: str,
    slug: str,
    as_of: datetime,
    base_url: str | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """One deadline or meeting in full, by type and slug (with ``known_at``, as then
    known); raises NotFound."""
    from tracker.views import slip_stats

    shown = deadline if type_ == "deadline" else meeting
    data = shown(session, slug, as_of, base_url, known_at)
    record = slip_stats.track_record(session, type_, slug, known_at)
    return {**data, "track_record": record}


def changes_as_dicts(changes: Iterable[Change]) -> list[dict[str, Any]]:
    return [
        {
            "field": c.field,
            "old": c.old,
            "new": c.new,
            "at": c.changed_at.isoformat(),
            "source": c.source.as_dict() if c.source else None,
            "note": c.note,
        }
        for c in changes
    ]
