"""Writes are honest (issue 13, item 7): success is printed only after the commit; a write
the database refuses is one line, exit code 1, and nothing saved. Runs the real command
while another connection holds SQLite's write lock."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.catalog.models import Deadline
from tracker.db import make_engine, make_session_factory, transaction
from tracker.errors import WriteFailed

from .process import tracker

AS_OF = ("--as-of", "2026-11-22T09:00Z")


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another process's write transaction on the database, held for the block."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def impatient(home: Path) -> tuple[str, str]:
    """The --database-url of the home's database with a half-second busy timeout."""
    return ("--database-url", f"sqlite:///{home / 'var' / 'tracker.db'}?timeout=0.5")


@pytest.mark.parametrize(
    "command",
    [
        ("deadline", "add", "Locked out", "--due", "2027-01-01", "--slug", "locked-out"),
        ("meeting", "add", "Locked out", "--starts", "TBA", "--slug", "locked-out"),
        ("treaty", "add", "Locked Out Treaty", "--slug", "locked-out"),
        ("deadline", "edit", "new-start-expiry", "--title", "Locked out"),
        ("source", "edit", "aca-abm-treaty", "--grade", "primary"),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_write_refused_by_a_locked_database_is_one_line_and_saves_nothing(
    home: Path, command: tuple[str, ...]
) -> None:
    grades = sources(home)
    with write_locked(home / "var" / "tracker.db"):
        result = tracker(home, *AS_OF, *impatient(home), *command)
    assert result.returncode == 1
    assert result.stdout == ""  # no "added", no "updated"
    assert result.stderr == "error: database is locked: nothing was saved\n"
    assert "Locked out" not in tracker(home, *AS_OF, "upcoming", "--all", "--json").stdout
    treaties = json.loads(tracker(home, "treaty", "list", "--json").stdout)
    assert "locked-out" not in {row["slug"] for row in treaties}
    assert sources(home) == grades


def sources(home: Path) -> dict[str, str]:
    listed = json.loads(tracker(home, "source", "list", "--json").stdout)
    return {row["key"]: row["grade"] for row in listed}


def test_the_transaction_says_a_refused_write_saved_nothing(
    session_factory: sessionmaker[Session], engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("holds SQLite's write lock")
    database = Path(str(engine.url.database))
    impatient_engine = make_engine(f"sqlite:///{database}?timeout=0.2")
    factory = make_session_factory(impatient_engine)
    refused = pytest.raises(WriteFailed, match=r"^database is locked: nothing was saved$")
    with write_locked(database), refused, transaction(factory) as session:
        session.add(Deadline(slug="x", title="x", kind="other", status="pending", uid="x"))
        session.flush()
    impatient_engine.dispose()
    with session_factory() as session:
        assert session.query(Deadline).count() == 0


@pytest.mark.parametrize("slug", ["nope", "new-strat"])
def test_an_unknown_treaty_in_a_filter_exits_non_zero_naming_it(home: Path, slug: str) -> None:
    subscribe = ("subscriber", "add", "a@example.org")
    for command in (("upcoming", "--treaty", slug), (*subscribe, "--treaty", slug)):
        result = tracker(home, *AS_OF, *command)
        assert result.returncode != 0 and repr(slug) in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    assert "a@example.org" not in tracker(home, "subscriber", "list").stdout
