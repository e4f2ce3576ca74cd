"""Sources: the articles and official pages that facts are taken from."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base


class SourceGrade(StrEnum):
    """How far a source can be trusted, from the most."""

    PRIMARY = "primary"  # the body itself: an official calendar, notice or treaty text
    ESTABLISHED = "established"  # established press or a research institute
    SECONDARY = "secondary"  # reports others' reporting
    UNVERIFIED = "unverified"  # nobody vouches for it


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
    published: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str] = mapped_column(String(20), default=SourceGrade.SECONDARY.value)
    # What a reader must know of it, such as "styled like a broadcaster; it is not one".
    caveat: Mapped[str | None] = mapped_column(Text)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "key": self.key,
            "title": self.title,
            "publisher": self.publisher,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "grade": self.grade,
            "caveat": self.caveat,
        }


def citation_table(subject: str, table: str) -> Table:
    """The link table between ``table`` and sources, named ``<subject>_sources``."""
    return Table(
        f"{subject}_sources",
        Base.metadata,
        Column(f"{subject}_id", ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True),
        Column("source_id", ForeignKey("sources.id", ondelete="RESTRICT"), primary_key=True),
    )
