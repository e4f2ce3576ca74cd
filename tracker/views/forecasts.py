"""Forecasts as readers see them, and each forecaster's record, as JSON-ready dicts: for
``tracker forecast list``, an item's page and a source's page.

A forecaster's record counts the forecasts shown (those of an item, say, when the listing
is of one item): made, still open, scored, annulled, and the mean Brier score of those
scored (lower is better; none when nothing was scored).

As known at a moment (``--known-at``): a forecast is known from when it was made (the day
its source made it public), its resolution from when it was resolved; one resolved later
shows as open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog import forecasting
from tracker.catalog.forecasts import Forecast, Resolution
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.source_editing import find as find_source

# Probabilities and scores are shown to this many decimals (the float noise beyond).
DECIMALS = 6
# What a forecast resolved after the moment it is known at does not say yet.
_RESOLUTION = (
    *("resolution", "resolved_outcome", "resolution_reason"),
    *("resolved_at", "resolved_by", "brier"),
)


def forecasts(
    session: Session, *, by: str | None = None, slug: str | None = None
) -> list[Forecast]:
    """The forecasts made by the source ``by`` and on the item ``slug`` (either may be
    None: any), oldest first. Raises NotFound for an unknown source, or a slug naming no
    item and no forecast."""
    query = select(Forecast)
    if by is not None:
        query = query.where(Forecast.source_id == find_source(session, by).id)
    if slug is not None:
        query = query.where(Forecast.subject_slug == slug)
    found = list(session.scalars(query.order_by(Forecast.made_at, Forecast.subject_slug)))
    if slug is not None and not found and not _is_item(session, slug):
        forecasting.find_item(session, slug)  # raises, naming the closest slug
    return found


def _is_item(session: Session, slug: str) -> bool:
    return any(
        session.scalar(select(model.id).where(model.slug == slug)) is not None
        for model in (Deadline, Meeting)
    )


def on_item(
    session: Session, type_: str, slug: str, known_at: datetime | None = None
) -> list[dict[str, Any]]:
    """The forecasts on one deadline or meeting, for its page."""
    query = select(Forecast).where(Forecast.subject_type == type_, Forecast.subject_slug == slug)
    found = session.scalars(query.order_by(Forecast.made_at, Forecast.id))
    return [as_dict(f, known_at) for f in found if _known(f, known_at)]


def by_source(session: Session, key: str) -> dict[str, Any]:
    """A source's page: the source, what cites it, its forecasts and its record."""
    from tracker.catalog.source_editing import cited_by

    source = find_source(session, key)
    made = [as_dict(f) for f in forecasts(session, by=key)]
    return {
        **source.as_dict(),
        "cited_by": cited_by(session, source),
        "forecasts": made,
        "record": records(made)[0] if made else None,
    }


def listing(
    session: Session,
    *,
    by: str | None = None,
    slug: str | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """``tracker forecast list --json``: the forecasts and each forecaster's record."""
    found = forecasts(session, by=by, slug=slug)
    shown = [as_dict(f, known_at) for f in found if _known(f, known_at)]
    return {"forecasts": shown, "records": records(shown)}


def _known(forecast: Forecast, known_at: datetime | None) -> bool:
    return known_at is None or forecast.made_at <= known_at


def as_dict(forecast: Forecast, known_at: datetime | None = None) -> dict[str, Any]:
    """A forecast as every reader has it (as known at ``known_at``: not resolved yet if it
    was resolved later)."""
    outcomes = forecasting.outcomes_of(forecast)
    chances = forecasting.probabilities(outcomes)
    resolved_at = forecast.resolved_at
    if known_at is not None and resolved_at is not None and resolved_at > known_at:
        return as_dict(forecast) | dict.fromkeys(_RESOLUTION)
    return {
        "type": forecast.subject_type,
        "slug": forecast.subject_slug,
        "source": forecast.source.as_dict(),
        "made_at": _moment(forecast.made_at),
        "recorded_at": _moment(forecast.recorded_at),
        "note": forecast.note,
        "outcomes": [
            {
                "name": o.name,
                "probability": o.written,
                "low": round(o.low, DECIMALS),
                "high": round(o.high, DECIMALS),
                "normalised": round(p, DECIMALS),
            }
            for o, p in zip(outcomes, chances, strict=True)
        ],
        "resolution": forecast.resolution,
        "resolved_outcome": forecast.resolved_outcome,
        "resolution_reason": forecast.resolution_reason,
        "resolved_at": _moment(forecast.resolved_at),
        "resolved_by": forecast.resolved_by.key if forecast.resolved_by else None,
        "brier": round(forecast.brier, DECIMALS) if forecast.brier is not None else None,
    }


def records(shown: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each forecaster's record over the forecasts ``shown`` (:func:`as_dict`), by key."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for forecast in shown:
        by_key.setdefault(forecast["source"]["key"], []).append(forecast)
    return [_record(made) for _, made in sorted(by_key.items())]


def _record(made: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [f["brier"] for f in made if f["resolution"] == Resolution.SCORED]
    source = made[0]["source"]
    return {
        "source": source["key"],
        "title": source["title"],
        "grade": source["grade"],
        "made": len(made),
        "open": sum(f["resolution"] is None for f in made),
        "scored": len(scores),
        "annulled": sum(f["resolution"] == Resolution.ANNULLED for f in made),
        "mean_brier": round(fmean(scores), DECIMALS) if scores else None,
    }


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
