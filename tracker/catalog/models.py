"""Deadlines, meetings, and the history of their changes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, overload

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from tracker.catalog.sources import Source, citation_table
from tracker.catalog.treaties import Treaty
from tracker.dates import DateWindow, Precision
from tracker.db import Base, slug


class DeadlineKind(StrEnum):
    EXPIRY = "expiry"
    REVIEW_CONFERENCE = "review-conference"
    DATA_EXCHANGE = "data-exchange"
    NOTIFICATION = "notification"
    RATIFICATION = "ratification"
    DECISION = "decision"
    OTHER = "other"


class DeadlineStatus(StrEnum):
    """A deadline's recorded state; ``open`` (its window running) is derived, never stored."""

    PENDING = "pending"
    MET = "met"
    MISSED = "missed"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class MeetingKind(StrEnum):
    PLENARY = "plenary"
    WORKING_GROUP = "working-group"
    SUMMIT = "summit"
    CONSULTATION = "consultation"
    BRIEFING = "briefing"
    REVIEW_CONFERENCE = "review-conference"
    NEGOTIATION = "negotiation"


class MeetingStatus(StrEnum):
    """A meeting's recorded state; ``in-session`` and ``awaiting-outcome`` are derived from
    its dates, never stored."""

    SCHEDULED = "scheduled"
    HELD = "held"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"
    UNCONFIRMED = "unconfirmed"  # its time has passed and no source shows it took place


class Confidence(StrEnum):
    """How sure a dated fact is, from the surest."""

    CONFIRMED = "confirmed"  # an official calendar or notice
    ANNOUNCED = "announced"  # reported by the parties
    EXPECTED = "expected"  # by treaty text or by pattern
    REPORTED = "reported"  # a single secondary source


NAMESPACE = uuid.UUID("6f1c1c51-1f7e-4d0e-9a43-5a1f0d3c7a10")


def stable_uid(kind: str, item_slug: str) -> str:
    """An iCalendar UID that the same item gets on every machine and every rebuild."""
    return f"{uuid.uuid5(NAMESPACE, f'{kind}:{item_slug}')}@tracker"


def stored_window(
    text: str | None,
    earliest: date | None,
    latest: date | None,
    precision: str | None,
    at: time | None,
) -> DateWindow | None:
    """The date window kept in a row's columns (None when the row has no date)."""
    if text is None or earliest is None or latest is None or precision is None:
        return None
    return DateWindow(text, earliest, latest, Precision(precision), at)


class WindowColumns:
    """A date window kept in the five columns named after the attribute (``starts_text``,
    ``starts_earliest``, ``starts_latest``, ``starts_precision``, ``starts_time``); None when
    the row has no date. A window given with its own zone sets the row's ``tz`` when
    ``sets_zone``."""

    SUFFIXES = ("text", "earliest", "latest", "precision", "time")

    def __init__(self, *, sets_zone: bool = False) -> None:
        self.sets_zone = sets_zone
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def read(self, row: object) -> DateWindow | None:
        return stored_window(*(getattr(row, f"{self.name}_{s}") for s in self.SUFFIXES))

    def __set__(self, row: object, window: DateWindow | None) -> None:
        values = (
            (window.text, window.earliest, window.latest, window.precision.value, window.at)
            if window
            else (None,) * len(self.SUFFIXES)
        )
        for suffix, value in zip(self.SUFFIXES, values, strict=True):
            setattr(row, f"{self.name}_{suffix}", value)
        if self.sets_zone and window and window.tz:
            setattr(row, "tz", window.tz)  # noqa: B010 (rows of any model with a tz)


class OptionalWindow(WindowColumns):
    @overload
    def __get__(self, row: None, owner: type) -> OptionalWindow: ...
    @overload
    def __get__(self, row: object, owner: type) -> DateWindow | None: ...
    def __get__(self, row: object | None, owner: type) -> OptionalWindow | DateWindow | None:
        return self if row is None else self.read(row)


class AgendaColumns:
    """What deadlines and meetings both keep: names, kind and status, their zone, alert
    leads, and the calendar identity (a stable UID and a SEQUENCE that grows on change)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[slug]
    title: Mapped[str] = mapped_column(String(500))
    treaty_id: Mapped[int | None] = mapped_column(
        ForeignKey("treaties.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30), index=True)
    # The body or forum it belongs to ("IAEA Board of Governors"): many meetings belong to
    # no single treaty.
    body: Mapped[str | None] = mapped_column(String(200), index=True)
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(20), index=True)
    # The day the recorded status was reached (met on, held on), when it is known.
    status_on: Mapped[date | None]
    confidence: Mapped[str] = mapped_column(String(20), default=Confidence.ANNOUNCED.value)
    alert_leads: Mapped[str | None] = mapped_column(String(200))
    # For an imprecise date: how many days before its earliest day a firm date is usually
    # announced. No confirmation by then calls for an "expected confirmation missing" alert.
    confirm_lead_days: Mapped[int | None]
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @declared_attr
    def treaty(cls) -> Mapped[Treaty | None]:
        return relationship(lazy="joined")


deadline_sources = citation_table("deadline", "deadlines")
meeting_sources = citation_table("meeting", "meetings")


class Deadline(AgendaColumns, Base):
    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_due", "due_earliest", "due_latest"),)

    # A deadline whose date is to be announced has none.
    due_text: Mapped[str | None] = mapped_column(String(100))
    due_earliest: Mapped[date | None]
    due_latest: Mapped[date | None]
    due_precision: Mapped[str | None] = mapped_column(String(20))
    due_time: Mapped[time | None]
    notes: Mapped[str | None] = mapped_column(Text)

    sources: Mapped[list[Source]] = relationship(secondary=deadline_sources, lazy="selectin")

    due = OptionalWindow(sets_zone=True)


class Meeting(AgendaColumns, Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_starts", "starts_earliest", "starts_latest"),)

    series: Mapped[str | None] = mapped_column(String(300), index=True)
    location: Mapped[str | None] = mapped_column(String(300))
    # A meeting may be agreed but never dated: then it has no start.
    starts_text: Mapped[str | None] = mapped_column(String(100))
    starts_earliest: Mapped[date | None]
    starts_latest: Mapped[date | None]
    starts_precision: Mapped[str | None] = mapped_column(String(20))
    starts_time: Mapped[time | None]
    ends_text: Mapped[str | None] = mapped_column(String(100))
    ends_earliest: Mapped[date | None]
    ends_latest: Mapped[date | None]
    ends_precision: Mapped[str | None] = mapped_column(String(20))
    ends_time: Mapped[time | None]
    delegations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(Text)
    recurrence: Mapped[str | None] = mapped_column(String(500))

    sources: Mapped[list[Source]] = relationship(secondary=meeting_sources, lazy="selectin")

    starts = OptionalWindow(sets_zone=True)
    ends = OptionalWindow()


# The main dates' fields (a deadline's due, a meeting's start): their earlier texts are
# indexed, as days (``2027-03-02``) by text and the others by moment. A query names them
# as the indexes do (literally: no parameter), or the indexes are not used. A text shaped
# as a day with unspecified digits (EDTF ``2026-12-XX``, a month) is not a day.
DATE_TEXTS = "field IN ('due', 'starts')"
NOT_A_DAY = "(old IS NULL OR old NOT LIKE '____-__-__' OR old LIKE '%X%' OR old LIKE '%x%')"


class Change(Base):
    """One field of a deadline or meeting changing value: the history behind alerts and feeds.

    ``changed_at`` is when the change happened or became known (from the source);
    ``recorded_at`` is when the tracker wrote it down.
    """

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_subject", "subject_type", "subject_id"),
        Index("ix_changes_recorded_at", "recorded_at"),
        Index("ix_changes_changed_at", "changed_at"),
        # The items created, or whose listed fields changed, after a moment (knowledge).
        Index("ix_changes_field", "field", "changed_at", "subject_type", "subject_id"),
        # A main date's earlier texts, read from the index alone: those that may be a day
        # of a listing's span, and the others (a month, TBA) since a moment. Date texts
        # are short (PostgreSQL caps an index entry: no notes in these).
        Index(
            "ix_changes_date_texts",
            "field",
            "old",
            "changed_at",
            "subject_type",
            "subject_id",
            sqlite_where=sql_text(DATE_TEXTS),
            postgresql_where=sql_text(DATE_TEXTS),
        ),
        Index(
            "ix_changes_other_date_texts",
            "field",
            "changed_at",
            "subject_type",
            "subject_id",
            "old",
            sqlite_where=sql_text(f"{DATE_TEXTS} AND {NOT_A_DAY}"),
            postgresql_where=sql_text(f"{DATE_TEXTS} AND {NOT_A_DAY}"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    # No foreign key: history outlives a removed item.
    subject_id: Mapped[int]
    subject_slug: Mapped[str] = mapped_column(String(120))
    subject_title: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    # False for history loaded with its record (a seed's past): kept, never announced.
    news: Mapped[bool] = mapped_column(default=True)
    # What made it: "cli", "web", "seed", "import", "poll" (a polled calendar); None for
    # changes recorded before it was kept.
    origin: Mapped[str | None] = mapped_column(String(20))

    source: Mapped[Source | None] = relationship(lazy="joined")


class Claim(Base):
    """What one source says of one field of an item (``due`` is "15 May 2027"), kept
    beside the item's value so that sources that disagree are shown side by side."""

    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "field", "source_id"),
        Index("ix_claims_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source] = relationship(lazy="joined")


class SeedValue(Base):
    """The value a seed file last gave one field of one record: the upstream base that
    tells a local edit (the row differs from it) from a field nobody touched."""

    __tablename__ = "seed_values"

    section: Mapped[str] = mapped_column(String(20), primary_key=True)
    identity: Mapped[str] = mapped_column(String(120), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
