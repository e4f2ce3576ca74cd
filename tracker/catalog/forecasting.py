"""Forecasts on a deadline or meeting: recorded, resolved against what happened, scored.

An outcome is written ``NAME=PROBABILITY``: a probability (``50%``, ``0.5``) or a range of
them (``15-20%``, ``0.15-0.2``). The outcomes of a forecast are mutually exclusive and
cover every case, so their ranges must admit probabilities that add up to 1: the lows may
not add up to more than 100%, nor the highs to less, give or take :data:`ROUNDING` (a
commentator's "a third each" written as 33%). Ranges are kept as given; a score uses each
range's midpoint, the midpoints normalised to add up to 1.

Resolved, a forecast is ``scored`` (the outcome that happened, a source saying so, and its
Brier score: the sum over outcomes of (p − o)², 0 the best, 2 the worst) or ``annulled``
(the event did not take place, or no source can say what happened: it scores nothing).
Every function validates before it writes, so a refused command changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import text
from tracker.catalog import queries
from tracker.catalog.forecasts import Forecast, ForecastOutcome, Resolution
from tracker.catalog.history import subject_type
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.source_editing import find as find_source
from tracker.catalog.sources import Source
from tracker.errors import InvalidInput, NotFound

# How far the lows' sum may exceed 1, or the highs' sum fall short of it: rounding.
ROUNDING = 0.05
MIN_OUTCOMES = 2
MAX_OUTCOMES = 50
EXAMPLE = '"Breakthrough=15-20%"'
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_RANGE_DASH = re.compile(r"\s*[-–]\s*")
# Statuses that say the event did not take place (or none shows it did): nothing to score.
NOT_TAKEN_PLACE = frozenset({"cancelled", "postponed", "unconfirmed", "superseded"})


@dataclass(frozen=True)
class Outcome:
    """One outcome as given: its name and its probability range (fractions of 1)."""

    name: str
    low: float
    high: float

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    @property
    def written(self) -> str:
        """``15-20%`` or ``50%``: the form it is read from."""
        if self.low == self.high:
            return percent(self.low)
        return f"{percent(self.low)[:-1]}-{percent(self.high)}"


def percent(value: float) -> str:
    """0.175 → ``17.5%``; 0.2 → ``20%``."""
    return f"{round(value * 100, 4):g}%"


def parse_probability(given: str, what: str = "") -> tuple[float, float]:
    """``50%``, ``0.5``, ``15-20%``, ``15%-20%``, ``0.15-0.2`` → (low, high) in 0..1;
    ``what`` names it in an error (default: ``probability '…'``)."""
    what = what or f"probability {given!r}"
    shown = given.strip()
    in_percent = shown.endswith("%")
    parts = _RANGE_DASH.split(shown.removesuffix("%").strip())
    if len(parts) > 2 or not all(_NUMBER.fullmatch(p.removesuffix("%")) for p in parts):
        raise InvalidInput(f"{what}: write a probability (50% or 0.5) or a range (15-20%)")
    if not in_percent and any(p.endswith("%") for p in parts):
        raise InvalidInput(f"{what}: give both ends in % (15-20%) or neither")
    values = [float(p.removesuffix("%")) / (100 if in_percent else 1) for p in parts]
    if not in_percent and any(v > 1 for v in values):
        raise InvalidInput(f"{what}: over 1; a percentage takes % (50%)")
    low, high = values[0], values[-1]
    if low > high:
        raise InvalidInput(f"{what}: the range's low end is above its high end")
    if high > 1:
        raise InvalidInput(f"{what}: over 100%")
    return low, high


def parse_outcome(given: str) -> Outcome:
    """``Breakthrough=15-20%`` → Outcome("Breakthrough", 0.15, 0.2)."""
    name, equals, probability = given.rpartition("=")
    if not equals or not name.strip():
        raise InvalidInput(f"outcome {given!r}: write NAME=PROBABILITY, e.g. {EXAMPLE}")
    low, high = parse_probability(probability, f"outcome {given!r}")
    return Outcome(text.title(name, "outcome name"), low, high)


def parse_outcomes(given: Sequence[str]) -> list[Outcome]:
    """The outcomes of one forecast, checked to be a forecast: at least two, named once,
    their ranges admitting probabilities that add up to 1."""
    outcomes = [parse_outcome(one) for one in given]
    if not MIN_OUTCOMES <= len(outcomes) <= MAX_OUTCOMES:
        raise InvalidInput(
            f"a forecast has {MIN_OUTCOMES} to {MAX_OUTCOMES} mutually exclusive outcomes "
            f"(--outcome {EXAMPLE}); {len(outcomes)} given"
        )
    seen: set[str] = set()
    for outcome in outcomes:
        if outcome.name.casefold() in seen:
            raise InvalidInput(f"outcome {outcome.name!r} is given twice")
        seen.add(outcome.name.casefold())
    lows, highs = sum(o.low for o in outcomes), sum(o.high for o in outcomes)
    if lows > 1 + ROUNDING:
        raise InvalidInput(
            f"the outcomes' probabilities add up to at least {percent(lows)}: mutually "
            "exclusive outcomes add up to 100%"
        )
    if highs < 1 - ROUNDING:
        raise InvalidInput(
            f"the outcomes' probabilities add up to at most {percent(highs)}: the outcomes "
            "must cover every case (add up to 100%)"
        )
    return outcomes


def probabilities(outcomes: Sequence[Outcome]) -> list[float]:
    """Each outcome's midpoint, the midpoints normalised to add up to 1."""
    total = sum(o.midpoint for o in outcomes)
    return [o.midpoint / total for o in outcomes]


def brier(outcomes: Sequence[Outcome], happened: str) -> float:
    """The Brier score of the forecast when ``happened`` is the outcome that happened:
    the sum over outcomes of (p − o)², o being 1 for that outcome and 0 for the others."""
    return sum(
        (p - (1.0 if o.name == happened else 0.0)) ** 2
        for o, p in zip(outcomes, probabilities(outcomes), strict=True)
    )


def outcomes_of(forecast: Forecast) -> list[Outcome]:
    return [Outcome(o.name, o.low, o.high) for o in forecast.outcomes]


def written(outcomes: Sequence[Outcome]) -> str:
    """The outcomes as one line (what a seed base keeps): ``A=15-20%; B=80%``."""
    return "; ".join(f"{o.name}={o.written}" for o in outcomes)


# Items and forecasts in the database


def find_item(session: Session, slug: str) -> Deadline | Meeting:
    """The deadline or meeting named ``slug`` (a slug naming both is refused: say which)."""
    found: list[Deadline | Meeting] = [
        *session.scalars(select(Deadline).where(Deadline.slug == slug)),
        *session.scalars(select(Meeting).where(Meeting.slug == slug)),
    ]
    if len(found) > 1:
        raise InvalidInput(f"{slug!r} names both a deadline and a meeting")
    if not found:
        known = [*session.scalars(select(Deadline.slug)), *session.scalars(select(Meeting.slug))]
        listing = "tracker upcoming --all"
        raise NotFound(queries.unknown("deadline or meeting", slug, known, listing))
    return found[0]


def on_item(session: Session, item: Deadline | Meeting) -> list[Forecast]:
    query = select(Forecast).where(
        Forecast.subject_type == subject_type(item), Forecast.subject_id == item.id
    )
    return list(session.scalars(query.order_by(Forecast.made_at, Forecast.id)))


def add(
    session: Session,
    slug: str,
    *,
    by: str,
    outcomes: Sequence[str],
    made_at: datetime,
    now: datetime,
    note: str | None = None,
) -> Forecast:
    """Record ``by``'s forecast on the item ``slug``, made at ``made_at`` (not after
    ``now``). One source's forecast on an item made on one day is recorded once."""
    parsed = parse_outcomes(outcomes)
    checked_note = text.note(note, "forecast note")
    item = find_item(session, slug)
    source = find_source(session, by)
    if made_at > now:
        raise InvalidInput(f"--made {made_at.date().isoformat()} is after now")
    if same_day(session, item, source, made_at) is not None:
        raise InvalidInput(f"{by}'s forecast on {slug} made that day is already recorded")
    forecast = new_forecast(item, source, made_at, now)
    forecast.note = checked_note
    set_outcomes(forecast, parsed)
    session.add(forecast)
    session.flush()
    return forecast


def new_forecast(
    item: Deadline | Meeting, source: Source, made_at: datetime, now: datetime
) -> Forecast:
    """A forecast on ``item`` by ``source`` made at ``made_at``, recorded ``now``; its
    outcomes and note are the caller's to set."""
    return Forecast(
        subject_type=subject_type(item),
        subject_id=item.id,
        subject_slug=item.slug,
        source=source,
        made_at=made_at,
        recorded_at=now,
    )


def same_day(
    session: Session, item: Deadline | Meeting, source: Source, made_at: datetime
) -> Forecast | None:
    """The source's forecast on the item made on ``made_at``'s day (UTC), if recorded."""
    day = made_at.astimezone(UTC).date()
    found = (f for f in on_item(session, item) if f.source_id == source.id)
    return next((f for f in found if f.made_at.astimezone(UTC).date() == day), None)


def set_outcomes(forecast: Forecast, outcomes: Sequence[Outcome]) -> None:
    forecast.outcomes[:] = [
        ForecastOutcome(position=n, name=o.name, low=o.low, high=o.high)
        for n, o in enumerate(outcomes)
    ]
    if forecast.resolution == Resolution.SCORED and forecast.resolved_outcome:
        forecast.brier = brier(outcomes, forecast.resolved_outcome)


def resolve(
    session: Session,
    slug: str,
    *,
    now: datetime,
    outcome: str | None = None,
    annul: str | None = None,
    by: str | None = None,
    force: bool = False,
) -> list[Forecast]:
    """Resolve the open forecasts on the item (every one with ``force``): scored against
    ``outcome`` (``by`` the source saying it happened), or annulled for the reason
    ``annul``. Refused when none is open, or a forecast has no such outcome."""
    if (outcome is None) == (annul is None):
        raise InvalidInput("give the outcome that happened (--outcome NAME) or --annul REASON")
    if outcome is not None and by is None:
        raise InvalidInput("--by SOURCE_KEY: the source saying which outcome happened")
    reason = text.note(annul, "annulment reason") if annul is not None else None
    if annul is not None and reason is None:
        raise InvalidInput("--annul: say why (the event did not take place, no source says…)")
    item = find_item(session, slug)
    source = find_source(session, by) if by is not None else None
    found = on_item(session, item)
    targets = found if force else [f for f in found if f.resolution is None]
    if not found:
        raise NotFound(f"no forecast on {subject_type(item)} {slug} (see `tracker forecast list`)")
    if not targets:
        said = ", ".join(sorted({f.resolution or "" for f in found}))
        raise InvalidInput(
            f"every forecast on {slug} is already resolved ({said}); nothing changed "
            "(--force resolves them again)"
        )
    if outcome is not None and item.status in NOT_TAKEN_PLACE:
        raise InvalidInput(
            f"{subject_type(item)} {slug} is {item.status}: nothing happened to score "
            "against; annul its forecasts (--annul REASON)"
        )
    happened = {f.id: named(f, outcome) if outcome is not None else None for f in targets}
    for forecast in targets:
        settle(forecast, happened[forecast.id], reason, source, now)
    session.flush()
    return targets


def settle(
    forecast: Forecast,
    happened: str | None,
    reason: str | None,
    source: Source | None,
    at: datetime,
) -> None:
    """Resolve one forecast: scored when ``happened`` names its outcome, else annulled
    for ``reason``; ``source`` says so."""
    forecast.resolution = Resolution.SCORED if happened else Resolution.ANNULLED
    forecast.resolved_outcome = happened
    forecast.resolution_reason = None if happened else reason
    forecast.brier = brier(outcomes_of(forecast), happened) if happened else None
    forecast.resolved_at = at
    forecast.resolved_by = source


def named(forecast: Forecast, outcome: str) -> str:
    """The forecast's own name for ``outcome`` (matched regardless of case)."""
    for option in forecast.outcomes:
        if option.name.casefold() == outcome.strip().casefold():
            return option.name
    names = ", ".join(o.name for o in forecast.outcomes)
    raise InvalidInput(
        f"{forecast.source.key}'s forecast on {forecast.subject_slug} has no outcome "
        f"{outcome!r} (its outcomes: {names}); nothing changed"
    )
