"""Factories: build treaties, deadlines and meetings through the same code the CLI uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.catalog import editing
from tracker.catalog import treaty_editing as service
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.treaties import Treaty

from .conftest import CURRENT_TIME


def make_treaty(
    session: Session, slug: str = "new-start", *, now: datetime = CURRENT_TIME, **values: str
) -> Treaty:
    fields = {
        "name": "Treaty on Measures for the Further Reduction of Strategic Offensive Arms",
        "short_name": "New START",
        "kind": "bilateral",
        "status": "in-force",
        **values,
    }
    return service.add_treaty(session, service.treaty_values(**fields), now=now, slug=slug)


def make_deadline(
    session: Session,
    title: str = "New START expires",
    *,
    due: str = "2026-02-05",
    now: datetime = CURRENT_TIME,
    slug: str | None = None,
    treaty: str | None = None,
    **values: Any,
) -> Deadline:
    fields = editing.DeadlineFields.parse(title=title, due=due, **values)
    return editing.add(session, fields, now=now, slug=slug, treaty=treaty)


def make_meeting(
    session: Session,
    title: str = "Strategic Stability Dialogue plenary",
    *,
    starts: str | None = "2021-09-30",
    now: datetime = CURRENT_TIME,
    slug: str | None = None,
    treaty: str | None = None,
    **values: Any,
) -> Meeting:
    values.setdefault("kind", "plenary")
    fields = editing.MeetingFields.parse(title=title, starts=starts, **values)
    return editing.add(session, fields, now=now, slug=slug, treaty=treaty)
