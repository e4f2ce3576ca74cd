"""Seeds are an upstream (#13 item 6), through the real CLI: a local edit survives `tracker
init` and `tracker seed`, a seed change to a field edited locally is printed as a conflict and
taken only with --take, and a seed's past is history, not news (no notice, no feed entry)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.catalog import queries, seeding
from tracker.catalog.models import Change, SeedValue
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.outbox.models import Delivery, Notice
from tracker.outbox.worker import Worker
from tracker.settings import Settings

from .process import tracker

DEADLINE = "bwc-revcon-10"  # seeded as due "2027"


def ok(home: Path, *args: str) -> str:
    result = tracker(home, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def db(home: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{home / 'var' / 'tracker.db'}")
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def seeds_with(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped seeds with one line changed."""
    folder = tmp_path / "seeds"
    shutil.copytree(seeding.default_paths()[0], folder)
    deadlines = folder / "30-deadlines.toml"
    content = deadlines.read_text(encoding="utf-8")
    assert content.count(old) == 1
    deadlines.write_text(content.replace(old, new), encoding="utf-8")
    return folder


def due(db: Session) -> str | None:
    db.expire_all()
    return queries.deadline(db, DEADLINE).due_text


def changes(db: Session) -> list[tuple[str, str, str | None, str | None, bool]]:
    db.expire_all()
    rows = db.scalars(select(Change).order_by(Change.id))
    return [(c.subject_slug, c.field, c.old, c.new, c.news) for c in rows]


def record_outbox(home: Path) -> None:
    """One round of the daemon's recording (alerts, change notices), at the real now."""
    engine = make_engine(f"sqlite:///{home / 'var' / 'tracker.db'}")
    worker = Worker(make_session_factory(engine), Settings(), FixedClock(datetime.now(UTC)), {})
    worker.record()
    engine.dispose()


def outbox(db: Session) -> tuple[int, int]:
    db.expire_all()
    notices = db.scalar(select(func.count()).select_from(Notice)) or 0
    return notices, db.scalar(select(func.count()).select_from(Delivery)) or 0


def test_a_local_edit_survives_init_and_nothing_is_queued(home: Path, db: Session) -> None:
    ok(home, "subscriber", "add", "analyst@example.org", "--immediate")
    record_outbox(home)
    ok(home, "deadline", "edit", DEADLINE, "--due", "2027-11-15")
    record_outbox(home)  # the person's own edit is news to the subscriber
    before, queued = changes(db), outbox(db)

    assert "seed: nothing changed" in ok(home, "init")
    record_outbox(home)

    assert due(db) == "2027-11-15"
    assert changes(db) == before  # no revert, no history written
    assert outbox(db) == queued  # no alert, no change notice
    edit_notices = db.scalars(select(Notice.change_id).where(Notice.change_id.is_not(None)))
    assert {change_id for change_id in edit_notices} <= {
        c.id for c in db.scalars(select(Change).where(Change.news.is_(True)))
    }


def test_a_seed_change_to_an_edited_field_is_a_conflict_until_taken(
    home: Path, db: Session, tmp_path: Path
) -> None:
    ok(home, "deadline", "edit", DEADLINE, "--due", "2027-11-15")
    folder = seeds_with(
        tmp_path, 'due = "2027"\ntz = "Europe/Zurich"', 'due = "2027-12-01"\ntz = "Europe/Zurich"'
    )
    before = changes(db)

    out = ok(home, "seed", str(folder))

    conflict = next(line for line in out.splitlines() if line.startswith("conflict:"))
    assert f"deadline {DEADLINE}, due" in conflict
    assert 'local "2027-11-15"' in conflict and 'seed "2027-12-01"' in conflict
    assert f"--take deadline:{DEADLINE}:due" in conflict
    assert due(db) == "2027-11-15" and changes(db) == before

    ok(home, "seed", str(folder), "--take", f"deadline:{DEADLINE}:due")
    assert due(db) == "2027-12-01"
    assert changes(db)[-1] == (DEADLINE, "due", "2027-11-15", "2027-12-01", True)
    again = ok(home, "seed", str(folder))
    assert "seed: nothing changed" in again and "conflict" not in again


def test_a_seed_change_to_an_untouched_field_is_applied_as_news(
    home: Path, db: Session, tmp_path: Path
) -> None:
    folder = seeds_with(tmp_path, 'due = "2030"', 'due = "2030-04-27"')
    out = ok(home, "seed", str(folder))
    assert "1 deadlines updated" in out and "conflict" not in out
    assert changes(db)[-1] == ("npt-revcon-2030", "due", "2030", "2030-04-27", True)
    assert db.get(SeedValue, ("deadline", "npt-revcon-2030", "due")).value == "2030-04-27"


def test_a_take_that_names_no_seed_field_is_refused_and_changes_nothing(
    home: Path, db: Session
) -> None:
    before = changes(db)
    for spec in ("deadline:nope:due", "deadline:bwc-revcon-10:colour", "widget:x:y"):
        result = tracker(home, "seed", "--take", spec)
        assert result.returncode == 2 and spec in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert changes(db) == before


def test_the_seed_s_past_is_history_not_news(seeded: Path, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{seeded / 'var' / 'tracker.db'}")
    with make_session_factory(engine)() as session:
        loaded = list(session.scalars(select(Change)))
    engine.dispose()
    assert loaded and not [c for c in loaded if c.news]
    ok(seeded, "feed", "build", "--out", str(tmp_path / "feed"))
    today = datetime.now(UTC).date()
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((tmp_path / "feed" / name).read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        dated_today = [
            e.title
            for e in parsed.entries
            if datetime(*e.get("published_parsed", e.get("updated_parsed"))[:6]).date() >= today
        ]
        assert dated_today == []
        assert not [e.title for e in parsed.entries if "New START" in e.title]
