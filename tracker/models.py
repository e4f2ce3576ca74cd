"""Every mapped class, imported once so ``Base.metadata`` knows all tables (alembic, tests)."""

import tracker.alerts.models
import tracker.catalog.forecasts
import tracker.interchange.models
import tracker.outbox.models
import tracker.plan
import tracker.web.throttles  # noqa: F401  (notices, deliveries; the plan; request throttles)
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.revision import Revision
from tracker.catalog.sources import Source
from tracker.catalog.treaties import ParticipationEvent, Treaty
from tracker.db import Base

metadata = Base.metadata

__all__ = [
    "Change",
    "Deadline",
    "Meeting",
    "ParticipationEvent",
    "Revision",
    "Source",
    "Treaty",
    "metadata",
]
