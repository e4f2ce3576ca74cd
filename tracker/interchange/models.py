"""A calendar an organisation publishes, registered to be polled and imported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.db import Base

POLL_EVERY_SECONDS = 6 * 3600


class CalendarFeed(Base):
    """An iCalendar URL the daemon fetches every ``every_seconds`` (conditionally, with
    the ``etag``/``last_modified`` it last got) and imports; what it imports cites
    ``source``. A failed fetch is kept here (``last_error``, ``failures`` in a row), never
    silent."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    treaty_id: Mapped[int | None] = mapped_column(ForeignKey("treaties.id", ondelete="SET NULL"))
    # The body or forum its items belong to ("IAEA Board of Governors"), when it says none.
    body: Mapped[str | None] = mapped_column(String(200))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    every_seconds: Mapped[int] = mapped_column(default=POLL_EVERY_SECONDS)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]

    treaty: Mapped[Treaty | None] = relationship(lazy="joined")
    source: Mapped[Source] = relationship(lazy="joined")
