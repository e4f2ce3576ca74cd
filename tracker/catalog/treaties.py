"""Treaties and the participation events of their parties."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.catalog.sources import Source, citation_table
from tracker.db import Base, slug


class TreatyKind(StrEnum):
    BILATERAL = "bilateral"
    MULTILATERAL = "multilateral"


class TreatyStatus(StrEnum):
    IN_FORCE = "in-force"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    NOT_IN_FORCE = "not-in-force"
    TERMINATED = "terminated"


class ParticipationEventKind(StrEnum):
    SIGNED = "signed"
    RATIFIED = "ratified"
    ACCEDED = "acceded"
    WITHDREW = "withdrew"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    DE_RATIFIED = "de-ratified"


class Standing(StrEnum):
    """Where a state stands, derived from its events."""

    NONE = "none"
    SIGNATORY = "signatory"
    PARTY = "party"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"


# What each event makes of a state's standing, applied in date order.
_STANDING_AFTER = {
    ParticipationEventKind.SIGNED: Standing.SIGNATORY,
    ParticipationEventKind.RATIFIED: Standing.PARTY,
    ParticipationEventKind.ACCEDED: Standing.PARTY,
    ParticipationEventKind.WITHDREW: Standing.WITHDRAWN,
    ParticipationEventKind.SUSPENDED: Standing.SUSPENDED,
    ParticipationEventKind.RESUMED: Standing.PARTY,
    ParticipationEventKind.DE_RATIFIED: Standing.SIGNATORY,
}

treaty_sources = citation_table("treaty", "treaties")
participation_sources = citation_table("participation_event", "participation_events")


class Treaty(Base):
    __tablename__ = "treaties"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[slug]
    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    signed: Mapped[date | None]
    entered_into_force: Mapped[date | None]
    expires: Mapped[date | None]
    depositary: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    # A multilateral treaty's count of states parties, on a day, as a source gives it.
    parties_count: Mapped[int | None]
    parties_count_on: Mapped[date | None]
    parties_count_source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL")
    )
    # The states whose ratification its entry into force needs (the CTBT's Annex 2).
    required_states: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    sources: Mapped[list[Source]] = relationship(secondary=treaty_sources, lazy="selectin")
    parties_count_source: Mapped[Source | None] = relationship(lazy="joined")
    events: Mapped[list[ParticipationEvent]] = relationship(
        back_populates="treaty",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ParticipationEvent.on",
    )

    def __str__(self) -> str:
        return self.slug

    def standing(self, state: str, as_of: date | None = None) -> Standing:
        standing = Standing.NONE
        for event in self.events:
            if event.state == state and (as_of is None or event.on <= as_of):
                standing = _STANDING_AFTER[ParticipationEventKind(event.event)]
        if standing not in (Standing.NONE, Standing.WITHDRAWN) and self._ended(as_of):
            return Standing.ENDED
        return standing

    def ended_on(self) -> date | None:
        """When an expired or terminated treaty stopped binding anyone, as far as recorded:
        its expiry, or else the first withdrawal (which ends a bilateral treaty)."""
        if self.status not in (TreatyStatus.EXPIRED, TreatyStatus.TERMINATED):
            return None
        withdrawals = [e.on for e in self.events if e.event == ParticipationEventKind.WITHDREW]
        return self.expires or min(withdrawals, default=None)

    def _ended(self, as_of: date | None) -> bool:
        """A treaty that expired or was terminated binds no one, whatever its parties did."""
        if self.status not in (TreatyStatus.EXPIRED, TreatyStatus.TERMINATED):
            return False
        ended = self.ended_on()
        return ended is None or as_of is None or as_of >= ended


class ParticipationEvent(Base):
    __tablename__ = "participation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    treaty_id: Mapped[int] = mapped_column(
        ForeignKey("treaties.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(120))
    event: Mapped[str] = mapped_column(String(20))
    on: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)

    treaty: Mapped[Treaty] = relationship(back_populates="events")
    sources: Mapped[list[Source]] = relationship(secondary=participation_sources, lazy="selectin")
