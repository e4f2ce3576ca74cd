"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when configured).

The suite is hermetic: on import (before any test module is collected) this reads the
test-control variables, removes every other ``TRACKER_*`` setting from the environment and
points HOME at an empty folder, so neither the caller's settings nor ``~`` reach a test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tracker import migrations
from tracker.db import make_engine, make_session_factory

from .process import tracker

CURRENT_TIME = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent

# Variables that steer the tests, not the tracker: kept, and read here once.
TEST_CONTROL = ("TRACKER_TEST_DATABASE_URL", "TRACKER_KILL_CYCLES", "TRACKER_KILL_SEED")
POSTGRES_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
KILL_CYCLES = int(os.environ.get("TRACKER_KILL_CYCLES") or 30)
KILL_SEED = int(os.environ["TRACKER_KILL_SEED"]) if os.environ.get("TRACKER_KILL_SEED") else None

for _name in [n for n in os.environ if n.startswith("TRACKER_") and n not in TEST_CONTROL]:
    del os.environ[_name]
HOME = Path(tempfile.mkdtemp(prefix="tracker-tests-home-"))
os.environ["HOME"] = str(HOME)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(HOME, ignore_errors=True)


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite in tmp_path, or the PostgreSQL test database, emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TRACKER_TEST_DATABASE_URL to run")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once a session (a migration run costs more than
    most tests); each test that wants one gets a copy."""
    path = tmp_path_factory.mktemp("migrated") / "tracker.db"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()  # the last connection closed: the WAL is folded into the file
    assert not path.with_name("tracker.db-wal").exists()
    return path


@pytest.fixture
def engine(bare_engine: Engine, migrated_sqlite: Path) -> Engine:
    """A database migrated to head."""
    if bare_engine.dialect.name == "sqlite":
        shutil.copyfile(migrated_sqlite, str(bare_engine.url.database))
    else:
        migrations.upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def now() -> datetime:
    return CURRENT_TIME


@pytest.fixture
def daemons() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts (``tracker daemon``); killed at the end if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="session")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose database the real `tracker init` made, once a session (an init costs
    more than most tests); never changed: `seeded` copies it."""
    home = tmp_path_factory.mktemp("initialised")
    result = tracker(home, "init")
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture(scope="module")
def seeded(initialised: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose database the real `tracker init` made, a copy per test module."""
    home = tmp_path_factory.mktemp("seeded")
    shutil.copytree(initialised / "var", home / "var")
    return home


@pytest.fixture
def home(seeded: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded database, for tests that change it."""
    shutil.copytree(seeded / "var", tmp_path / "var")
    return tmp_path
