"""Subscribers: who gets alerts and digests, and which items concern them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.alerts.digests import DigestFrequency, Schedule
from tracker.db import Base
from tracker.settings import DigestSettings


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    digest: Mapped[str] = mapped_column(String(10), default=DigestFrequency.WEEKLY.value)
    # The subscriber's own digest day (weekly), local hour and wish for empty digests;
    # NULL: follow the global [digest] settings, so changing them moves everyone else.
    digest_day: Mapped[str | None] = mapped_column(String(10))
    digest_hour: Mapped[int | None]
    empty_digests: Mapped[bool | None] = mapped_column(Boolean)
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
    # Signed up by the web form: nothing is sent until the emailed link is followed
    # (NULL until then; set at once for subscribers the operator adds).
    confirmed_at: Mapped[datetime | None]
    # Unsubscribed by a link in an email: kept (so a late link still answers), sent nothing.
    unsubscribed_at: Mapped[datetime | None]

    def schedule(self, defaults: DigestSettings) -> Schedule:
        """The digest schedule that applies: the subscriber's choices over ``defaults``."""
        return Schedule.of(
            defaults, self.digest, self.tz, self.digest_day, self.digest_hour, self.empty_digests
        )

    def concerns(self, treaty: str | None, kind: str | None) -> bool:
        """Whether an item of this treaty and kind passes the subscriber's filters."""
        if self.treaties and treaty not in self.treaties:
            return False
        return not (self.kinds and kind not in self.kinds)
