"""Forecasts attached to a deadline or meeting: who made them, when, and their outcomes.

A forecast is a source's (``source``) set of mutually exclusive outcomes, each with a
probability or a range of them (``low``..``high``, fractions of 1; a point has low ==
high). Once the item's outcome is known it is resolved: ``scored`` (the outcome that
happened, with its Brier score) or ``annulled`` (the event did not take place, or no source
can say what happened: it scores nothing), with the reason and the source that says so.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.catalog.sources import Source
from tracker.db import Base


class Resolution(StrEnum):
    SCORED = "scored"
    ANNULLED = "annulled"


class Forecast(Base):
    __tablename__ = "forecasts"
    __table_args__ = (Index("ix_forecasts_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))  # "deadline" or "meeting"
    subject_id: Mapped[int]  # no foreign key: a forecast outlives a removed item, as history
    subject_slug: Mapped[str] = mapped_column(String(120))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    made_at: Mapped[datetime]  # when the source made it (as the source dates it)
    recorded_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(String(20))  # None: open
    resolved_outcome: Mapped[str | None] = mapped_column(String(200))
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL")
    )
    brier: Mapped[float | None] = mapped_column(Float)

    source: Mapped[Source] = relationship(foreign_keys=[source_id], lazy="joined")
    resolved_by: Mapped[Source | None] = relationship(foreign_keys=[resolved_by_id], lazy="joined")
    outcomes: Mapped[list[ForecastOutcome]] = relationship(
        back_populates="forecast",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ForecastOutcome.position",
    )


class ForecastOutcome(Base):
    __tablename__ = "forecast_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    forecast_id: Mapped[int] = mapped_column(
        ForeignKey("forecasts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    low: Mapped[float] = mapped_column(Float)  # a probability, 0..1
    high: Mapped[float] = mapped_column(Float)  # == low for a single probability

    forecast: Mapped[Forecast] = relationship(back_populates="outcomes")
