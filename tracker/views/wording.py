"""The one wording of a change and of an item's one-line summary, for every reader.

Alerts, digests, the feeds and the pages all say "X: date moved from A to B" and
"X: in 30 days (2026-12-22)" the same way, from these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from tracker.dates import DateWindow, Precision
from tracker.views.countdown import countdown

if TYPE_CHECKING:
    from tracker.views.items import Item

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ufffe\uffff]+")
# What a history row's field is called in a sentence; a date moves, anything else changes.
_DATE_FIELDS = frozenset({"due", "starts", "ends"})
_FIELD_NAMES = {
    "due": "date",
    "starts": "start",
    "ends": "end",
    "confirm_lead_days": "days ahead a firm date is expected",
    "status_on": "status date",
    "alert_leads": "alert lead times",
}


def one_line(value: str) -> str:
    """Text safe in any one-line place (a subject, a feed title): control characters and
    line breaks become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def change_title(
    subject_type: str, subject_title: str, field: str, old: str | None, new: str | None
) -> str:
    """One history row as one line: ``New deadline: X (2026-02-05)``, ``Removed meeting: X``,
    ``X: date moved from 2026-02-05 to 2026-03-01``, ``X: status changed from A to B``."""
    name = one_line(subject_title)
    before, after = one_line(old or ""), one_line(new or "")
    if field == "created":
        return f"New {subject_type}: {name}" + (f" ({after})" if after else "")
    if field == "removed":
        return f"Removed {subject_type}: {name}"
    what = _FIELD_NAMES.get(field, one_line(field))
    verb = "moved" if field in _DATE_FIELDS else "changed"
    if before and after:
        return f"{name}: {what} {verb} from {before} to {after}"
    if after:
        return f"{name}: {what} set to {after}"
    if before:
        return f"{name}: {what} cleared (was {before})"
    return f"{name}: {what} cleared"


@dataclass(frozen=True)
class FieldChange:
    """A field's net change over several history rows: the first old, the last new."""

    field: str
    old: str | None
    new: str | None


def net_changes(rows: Iterable[tuple[str, str | None, str | None]]) -> list[FieldChange]:
    """Each field's first old and last new value, in order of first change, of
    ``(field, old, new)`` rows in the order made; a field back where it began is left out."""
    first: dict[str, str | None] = {}
    last: dict[str, str | None] = {}
    for field, old, new in rows:
        first.setdefault(field, old)
        last[field] = new
    return [FieldChange(f, first[f], last[f]) for f in first if first[f] != last[f]]


def field_name(field: str) -> str:
    """A field as a sentence calls it: ``date`` for a deadline's due date."""
    return _FIELD_NAMES.get(field, one_line(field))


def field_line(change: FieldChange) -> str:
    """``date: 2026-11-29 → 2026-11-23``; an empty value is ``—``."""
    before, after = one_line(change.old or "") or "—", one_line(change.new or "") or "—"
    return f"{field_name(change.field)}: {before} → {after}"


def window_text(starts: str | None, ends: str | None) -> str:
    """A date or a span of days as one text: ``2027-05-04 to 2027-05-08``."""
    first, last = one_line(starts or "") or "TBA", one_line(ends or "")
    return f"{first} to {last}" if last and last != first else first


# A recorded state that says what happened, first in a subject: "Cancelled: X".
_HEADLINES = {"cancelled": "Cancelled", "postponed": "Postponed", "superseded": "Superseded"}
# A time written without its zone ("2027-05-04T10:00"): the item's own zone is said beside it.
_BARE_TIME = re.compile(r"T\d{2}:\d{2}(:\d{2})?$")


def local_text(text: str | None, tz: str | None) -> str:
    """A date as written, a time with its zone said (``2027-05-04T10:00 Europe/Vienna``):
    a meeting's time is in the meeting's own local time."""
    said = one_line(text or "")
    if tz and _BARE_TIME.search(said):
        return f"{said} {one_line(tz)}"
    return said


def changes_title(
    subject_title: str,
    changes: Sequence[FieldChange],
    windows: tuple[str, str] | None = None,
) -> str:
    """What happened to an item, in a subject line (``windows``: its new and old date or
    span when its date moved): ``Moved: X → B (was A)``, ``Postponed: X → B (was A)``,
    ``Cancelled: X``, ``Changed: X — location: Geneva → Vienna``; other fields changed
    beside are named after: ``Moved: X → B (was A) — also location``, ``Changed: X —
    location, confidence``."""
    name = one_line(subject_title)
    dated = [c for c in changes if c.field in _DATE_FIELDS]
    others = [c for c in changes if c.field not in _DATE_FIELDS]
    status = next((c for c in others if c.field == "status"), None)
    headline = _HEADLINES.get(status.new or "") if status is not None else None
    if headline is not None:
        others = [c for c in others if c is not status]
    title = f"{headline or ('Moved' if dated else 'Changed')}: {name}"
    if dated:
        new, old = windows or (
            one_line(dated[0].new or "") or "TBA",
            one_line(dated[0].old or "") or "TBA",
        )
        title += f" → {new} (was {old})"
    if not others:
        return title
    if len(others) == 1 and not (dated or headline):
        return f"{title} — {field_line(others[0])}"
    also = "also " if dated or headline else ""
    return f"{title} — {also}" + ", ".join(dict.fromkeys(field_name(c.field) for c in others))


# What each confidence rests on, said after it: "expected — by treaty schedule or pattern".
CONFIDENCE_BASIS = {
    "confirmed": "official calendar or notice",
    "announced": "reported by the parties",
    "expected": "by treaty schedule or pattern",
    "reported": "a single secondary source",
}
# Grades as a reader says them, beside a source.
GRADE_NAMES = {
    "primary": "primary (official)",
    "established": "established press or institute",
    "secondary": "secondary",
    "unverified": "unverified",
}
# Lifecycle states whose name alone would leave a reader asking what it means.
STATUS_WORDS = {
    "in-session": "in session",
    "awaiting-outcome": "awaiting outcome",
    "unconfirmed": "unconfirmed (no source shows it took place)",
    "open": "open (its window is running)",
}


def confidence_phrase(confidence: str) -> str:
    """``expected — by treaty schedule or pattern``."""
    basis = CONFIDENCE_BASIS.get(confidence)
    return f"{confidence} — {basis}" if basis else one_line(confidence)


def status_phrase(status: str) -> str:
    """A lifecycle state in words: ``in session``, ``awaiting outcome``, ``postponed``."""
    return STATUS_WORDS.get(status) or one_line(status.replace("-", " "))


def source_phrase(source: Mapping[str, str | None]) -> str:
    """A source in one line: its title, publisher and grade, and its caveat if any."""
    parts = [one_line(source.get("title") or "")]
    if source.get("publisher"):
        parts.append(one_line(source["publisher"] or ""))
    grade = source.get("grade")
    line = ", ".join(p for p in parts if p)
    if grade:
        line += f" [{GRADE_NAMES.get(grade, grade)}]"
    if source.get("caveat"):
        line += f" — caveat: {one_line(source['caveat'] or '')}"
    return line


def expected_phrase(when: DateWindow) -> str:
    """``expected in the first week of October 2023``, ``expected at the end of …``."""
    text = when.text
    if when.precision is Precision.WEEK:
        # "the first week of October 2023", but "week 2027-W10"
        return f"expected in week {text}" if text[:1].isdigit() else f"expected in the {text}"
    if text.startswith("end of"):
        return f"expected at the {text}"
    return f"expected in {text}"


def when_phrase(when: DateWindow, tz: str, as_of: datetime) -> str:
    """``in 30 days (2026-12-22)``; for an imprecise date, ``expected in 2027`` with the
    countdown's own words beside it when they add anything (``expected in October 2026
    (in 1–2 months)``): the countdown never claims more precision than the date has, and
    nothing here counts days of its own; ``date to be announced``."""
    return _said(when, countdown(when, as_of, tz).human)


def _said(when: DateWindow, human: str) -> str:
    """A date with its countdown's words (:func:`when_phrase`)."""
    if when.is_tba:
        return "date to be announced"
    human = one_line(human)
    if when.is_exact:
        return f"{human} ({one_line(when.text)})"
    expected = expected_phrase(when)
    if not human or expected.endswith(human.removeprefix("in ")):
        return expected
    return f"{expected} ({human})"


def _as_of(item: Item, as_of: datetime | None) -> Item:
    """The item counted as of ``as_of`` (its state too), default: its own instant."""
    return item if as_of is None or as_of == item.as_of else replace(item, as_of=as_of)


def _item_when(item: Item) -> str:
    """An item's date with its own countdown (a meeting's runs to its end)."""
    return _said(item.when, item.countdown.human)


def item_summary(item: Item, as_of: datetime | None = None) -> str:
    """An item in one line as of ``as_of`` (default: the item's own instant):
    ``New START expires: in 30 days (2026-02-05)``."""
    return one_line(f"{item.title}: {_item_when(_as_of(item, as_of))}")


def item_phrase(item: Item, as_of: datetime | None = None) -> str:
    """What a feed entry or a digest says of an item as of ``as_of`` (default: its own
    instant): when, its state and the confidence of its date, ``in 30 days (2026-12-22);
    in session; expected — by treaty schedule or pattern``."""
    shown = _as_of(item, as_of)
    when = _item_when(shown)
    return one_line(f"{when}; {status_phrase(shown.status)}; {confidence_phrase(shown.confidence)}")
