"""The outbox: notices (alerts, changes, digests) and their deliveries.

Every notice is a row, unique by identity, before anything is sent; a delivery row per
channel and recipient (a subscriber's address, or a service's name) tracks sending.
Nothing is sent without a row; a ``sent`` row is never sent again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base


class NoticeKind(StrEnum):
    ALERT = "alert"
    CHANGE = "change"
    DIGEST = "digest"
    CONFIRM = "confirm"  # a web sign-up's confirmation link: the one email before confirming


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notice(Base):
    # The table keeps the name it was created with: renaming a table that deliveries
    # refer to (ON DELETE CASCADE) is a risk to the outbox for a word.
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_recorded_at", "recorded_at"),
        # The feeds read the newest public alerts: without it, a scan of every notice.
        Index("ix_events_public_recorded_at", "public", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject_type: Mapped[str | None] = mapped_column(String(20))
    subject_slug: Mapped[str | None] = mapped_column(String(120))
    subject_kind: Mapped[str | None] = mapped_column(String(30))
    treaty_slug: Mapped[str | None] = mapped_column(String(120))
    lead: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    change_id: Mapped[int | None] = mapped_column(unique=True)
    due_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # An alert of the item's own lead times: what the public feeds show (no delivery row).
    public: Mapped[bool] = mapped_column(Boolean, default=False)

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notice", cascade="all, delete-orphan"
    )


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "channel", "recipient", name="uq_deliveries_event_channel_recipient"
        ),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
        # A claim skips recipients with a delivery in hand, and takes a recipient's due
        # deliveries together: both look a recipient's rows up by status.
        Index("ix_deliveries_recipient_status", "recipient", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column("event_id", ForeignKey("events.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    # Who holds a ``sending`` row (a worker's name, or "daemon <host> <pid>") and until
    # when: past ``lease_until`` any worker may give it back to pending.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Set by `tracker alerts retry`: the give-up window counts from here then.
    requeued_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    notice: Mapped[Notice] = relationship(back_populates="deliveries", lazy="joined")


class Transport(Base):
    """A channel's connection to the world (the SMTP server for email): ``paused_since``
    is set while it fails as a whole (authentication, TLS, connection refused), and
    its deliveries wait for it; ``next_probe_at`` is when one is tried again."""

    __tablename__ = "transports"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    paused_since: Mapped[datetime | None]
    next_probe_at: Mapped[datetime | None]
    probes: Mapped[int] = mapped_column(default=0)  # failed probes of this pause
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None]
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # of pauses over


class TransportPause(Base):
    """One pause of a transport, over (``ended_at``) or not: the give-up window of a
    delivery does not count the time its channel was paused."""

    __tablename__ = "transport_pauses"
    __table_args__ = (Index("ix_transport_pauses_transport_ended", "transport", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transport: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class SendBudget(Base):
    """A token bucket shared by every process that sends: ``"global"`` or
    ``"domain:<domain>"``; a send takes a token, ``refilled_at`` is when tokens were last
    added (:mod:`tracker.outbox.budgets`)."""

    __tablename__ = "send_budgets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime]


class RunningProcess(Base):
    """A process that plans or delivers, by name, with its heartbeat (``seen_at``, every
    few seconds) and what it did since it started: for the status and metrics pages."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # "worker", "planner", "all"
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    claimed: Mapped[int] = mapped_column(default=0)
