"""Subscribers: who gets alerts and digests, and which items concern them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.alerts.digests import DigestFrequency
from tracker.db import Base


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    digest: Mapped[str] = mapped_column(String(10), default=DigestFrequency.WEEKLY.value)
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    treaties: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    leads: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # The due instant of the last digest period handled: moved forward before sending.
    digest_through: Mapped[datetime | None]
    # Permanent refusals of the address (5xx at RCPT) in a row; a delivery sent resets it.
    bounces: Mapped[int] = mapped_column(default=0)
    # Set at the third bounce in a row: nothing is recorded for or sent to them until
    # `subscriber edit --resume`.
    suspended_at: Mapped[datetime | None]

    def concerns(self, treaty: str | None, kind: str | None) -> bool:
        """Whether an item of this treaty and kind passes the subscriber's filters."""
        if self.treaties and treaty not in self.treaties:
            return False
        return not (self.kinds and kind not in self.kinds)
