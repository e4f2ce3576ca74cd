"""A seeded database with its feeds and board built as of CURRENT_TIME, and a TestClient.

The HTTP tests only read, so they share one SQLite site per module (seeding per test would
take minutes); ``seeded_site`` builds one on each configured database for the tests that
check the app against both SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker import migrations
from tracker.catalog import seeding
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.publish.build import build_feeds
from tracker.settings import Settings
from tracker.web.app import create_app

from ..conftest import CURRENT_TIME


@dataclass
class Site:
    settings: Settings
    sessions: sessionmaker[Session]

    @property
    def feed_dir(self) -> Path:
        return self.settings.feed_dir

    def client(self, now: datetime = CURRENT_TIME) -> TestClient:
        return TestClient(create_app(self.settings, self.sessions, FixedClock(now)))


def make_site(root: Path, database_url: str, sessions: sessionmaker[Session]) -> Site:
    settings = Settings(
        data_dir=root / "var",
        database_url=database_url,
        server={"cache_control": "public, max-age=60"},
    )
    with sessions() as session, session.begin():
        seeding.load(session, seeding.default_paths(), now=CURRENT_TIME)
    with sessions() as session:
        build_feeds(session, settings, as_of=CURRENT_TIME)
    return Site(settings, sessions)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    url = f"sqlite:///{root / 'tracker.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    yield make_site(root, url, make_session_factory(engine))
    engine.dispose()


@pytest.fixture(scope="module")
def client(site: Site) -> Iterator[TestClient]:
    with site.client() as client:
        yield client


@pytest.fixture
def seeded_site(tmp_path: Path, database_url: str, session_factory: sessionmaker[Session]) -> Site:
    return make_site(tmp_path, database_url, session_factory)
