"""A small schedule to build feeds from: New START, a plenary, a cancelled meeting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.publish.build import BuildReport, build_feeds
from tracker.settings import Settings

from ..conftest import CURRENT_TIME
from ..factories import make_deadline, make_meeting, make_treaty

HOSTILE = "Договор СНВ-III <script>alert('x')</script> & \"quoted\" 'single'"


@dataclass
class Schedule:
    sessions: sessionmaker[Session]
    settings: Settings
    out: Path

    def build(self) -> BuildReport:
        with self.sessions() as session:
            return build_feeds(session, self.settings, self.out, as_of=CURRENT_TIME)

    def edit(self, change: Callable[[Session], object]) -> None:
        with self.sessions() as session, session.begin():
            change(session)


@pytest.fixture
def schedule(session_factory: sessionmaker[Session], tmp_path: Path) -> Schedule:
    with session_factory() as session, session.begin():
        make_treaty(session, "new-start", now=CURRENT_TIME - timedelta(days=30))
        make_treaty(
            session,
            "inf",
            now=CURRENT_TIME - timedelta(days=30),
            name="INF Treaty",
            short_name="INF",
        )
        make_deadline(
            session,
            "New START expires",
            due="2026-02-05",
            treaty="new-start",
            kind="expiry",
            slug="new-start-expiry",
            now=CURRENT_TIME - timedelta(days=20),
        )
        make_deadline(
            session,
            "Data exchange",
            due="February 2027",
            treaty="new-start",
            kind="data-exchange",
            slug="data-exchange",
            now=CURRENT_TIME - timedelta(days=10),
        )
        make_meeting(
            session,
            "Strategic Stability Dialogue plenary",
            starts="2021-07-28T09:00 Europe/Geneva",
            ends="2021-07-28T17:00",
            location="Geneva",
            slug="ssd-plenary",
            treaty="new-start",
            now=CURRENT_TIME - timedelta(days=5),
        )
        make_meeting(
            session,
            HOSTILE,
            starts="2026-12-10",
            slug="hostile",
            treaty="inf",
            location="Москва & <Geneva>",
            now=CURRENT_TIME - timedelta(days=2),
        )
    settings = Settings(data_dir=tmp_path / "var")
    return Schedule(session_factory, settings, tmp_path / "feed")


def later(days: int) -> datetime:
    return CURRENT_TIME + timedelta(days=days)
