"""Request throttles kept in the database, so any number of web processes share them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base


class Throttle(Base):
    """Hits on one key (an address's or a client's hash) in the window that began at
    ``window_start``."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    hits: Mapped[int] = mapped_column(default=0)
