"""``[[forecast]]`` seed records, loaded as the seeds' upstream rule has it.

A forecast is known by its item's slug, its source and the day it was made. Its outcomes,
its note and its resolution are three fields of the seeds' upstream
(:mod:`tracker.catalog.seed_base`): a later seed changes what nobody edited, and a local
resolution (``tracker forecast resolve --force``) is kept, reported as a conflict when the
seed's changed too. The resolution is one field, so that its parts (what happened, why,
who says so) are never taken half from the seed and half from the local edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from tracker import text
from tracker.catalog import forecasting
from tracker.catalog.forecasts import Forecast, Resolution
from tracker.catalog.seed_base import Upstream
from tracker.catalog.seed_records import ForecastRecord
from tracker.catalog.source_editing import find as find_source
from tracker.catalog.sources import Source
from tracker.errors import InvalidInput


@dataclass(frozen=True)
class Resolved:
    """A resolution as a seed gives it: the outcome that happened (scored) or the reason
    (annulled), and the source saying so."""

    happened: str | None
    reason: str | None
    source: Source | None

    @property
    def said(self) -> str:
        return said(self.happened, self.reason, self.source)


def said(happened: str | None, reason: str | None, source: Source | None) -> str:
    """A resolution as one value: ``scored: Breakthrough (by KEY)``, ``annulled: REASON``."""
    by = f" (by {source.key})" if source is not None else ""
    return f"scored: {happened}{by}" if happened else f"annulled: {reason}{by}"


def load(
    session: Session, record: ForecastRecord, *, now: datetime, upstream: Upstream
) -> bool | None:
    """Create or update the record's forecast: True when created, False when updated, None
    when nothing changed. Raises InvalidInput at the first bad field."""
    item = forecasting.find_item(session, record.slug)
    source = find_source(session, record.source)
    outcomes = forecasting.parse_outcomes(record.outcomes)
    note = text.note(record.note, "forecast note")
    resolved = _resolution(session, record, outcomes, item.status)
    made_at = datetime.combine(record.made, time(0), UTC)
    if made_at > now:
        raise InvalidInput(f"made: {record.made.isoformat()} is after now")
    resolved_at = datetime.combine(record.resolved_on, time(0), UTC) if record.resolved_on else now
    seed = {
        "outcomes": forecasting.written(outcomes),
        "note": note,
        "resolution": resolved.said if resolved else None,
    }
    found = forecasting.same_day(session, item, source, made_at)
    current = None
    if found is not None:
        current = {
            "outcomes": forecasting.written(forecasting.outcomes_of(found)),
            "note": found.note,
            "resolution": _current(found),
        }
    wanted = upstream.merge("forecast", record.identity, seed, current).values
    if found is None:
        found = forecasting.new_forecast(item, source, made_at, now)
        session.add(found)
    elif not wanted:
        return None
    if "outcomes" in wanted:
        forecasting.set_outcomes(found, outcomes)
    if "note" in wanted:
        found.note = note
    if "resolution" in wanted:
        _resolve(found, resolved, resolved_at)
    session.flush()
    return current is None


def _current(forecast: Forecast) -> str | None:
    if forecast.resolution is None:
        return None
    return said(forecast.resolved_outcome, forecast.resolution_reason, forecast.resolved_by)


def _resolve(forecast: Forecast, resolved: Resolved | None, at: datetime) -> None:
    if resolved is None:  # the seed no longer resolves it: open again
        forecast.resolution = forecast.resolved_outcome = forecast.resolution_reason = None
        forecast.brier = forecast.resolved_at = forecast.resolved_by = None
        return
    forecasting.settle(forecast, resolved.happened, resolved.reason, resolved.source, at)


def _resolution(
    session: Session,
    record: ForecastRecord,
    outcomes: list[forecasting.Outcome],
    status: str,
) -> Resolved | None:
    """The record's resolution, checked as ``tracker forecast resolve`` checks one."""
    source = find_source(session, record.resolved_by) if record.resolved_by else None
    if record.resolution is None:
        given = [name for name in ("outcome", "reason", "resolved_by", "resolved_on")
                 if getattr(record, name) is not None]  # fmt: skip
        if given:
            raise InvalidInput(f"{given[0]}: given without a resolution (scored or annulled)")
        return None
    resolution = text.choice(record.resolution, Resolution, "resolution")
    if resolution == Resolution.ANNULLED:
        reason = text.note(record.reason, "reason")
        if reason is None or record.outcome is not None:
            raise InvalidInput("an annulled forecast gives its reason, and no outcome")
        return Resolved(None, reason, source)
    if record.outcome is None or source is None or record.reason is not None:
        raise InvalidInput("a scored forecast gives its outcome and resolved_by, no reason")
    if status in forecasting.NOT_TAKEN_PLACE:
        raise InvalidInput(f"resolution: the item is {status}: annul it, do not score it")
    for outcome in outcomes:
        if outcome.name.casefold() == record.outcome.strip().casefold():
            return Resolved(outcome.name, None, source)
    raise InvalidInput(f"outcome: {record.outcome!r} is none of the forecast's outcomes")
