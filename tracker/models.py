"""Every mapped class, imported once so ``Base.metadata`` knows all tables (alembic, tests)."""

import tracker.alerts.models  # noqa: F401  (subscribers, events, deliveries)
from tracker.db import Base
from tracker.schedule.models import Change, Deadline, Meeting
from tracker.sources import Source
from tracker.treaties.models import ParticipationEvent, Treaty

metadata = Base.metadata

__all__ = ["Change", "Deadline", "Meeting", "ParticipationEvent", "Source", "Treaty", "metadata"]
