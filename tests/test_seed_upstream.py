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
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracker.catalog import queries, seeding
from tracker.catalog.models import Change, Deadline, Meeting, SeedValue
from tracker.catalog.sources import Source
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


def test_a_database_from_before_the_bases_keeps_what_differs_and_fills_in_defaults(
    home: Path, db: Session
) -> None:
    ok(home, "deadline", "edit", DEADLINE, "--due", "2027-11-15")
    # As migration 0004 left a database: no bases, its new columns at their defaults.
    db.execute(delete(SeedValue))
    db.execute(update(Deadline).values(confidence="announced", status_on=None))
    db.execute(update(Meeting).values(confidence="announced", status_on=None))
    db.execute(update(Source).values(grade="secondary", caveat=None))
    db.commit()
    before = len(changes(db))

    out = ok(home, "seed")

    conflicts = [line for line in out.splitlines() if line.startswith("conflict:")]
    assert len(conflicts) == 1, out
    assert f"deadline {DEADLINE}, due" in conflicts[0] and 'seed "2027"' in conflicts[0]
    assert due(db) == "2027-11-15"
    filled = changes(db)[before:]
    assert filled and {field for _, field, *_ in filled} <= {"confidence", "status_on"}
    assert not [c for c in filled if c[-1]]  # filling in a default is no news
    assert queries.deadline(db, DEADLINE).confidence == "expected"
    fake = db.scalar(select(Source).where(Source.publisher == "BBC Express News"))
    assert fake is not None and fake.grade == "unverified" and "Not the BBC" in (fake.caveat or "")
    again = ok(home, "seed")
    assert "seed: nothing changed" in again and len(changes(db)) == before + len(filled)


@pytest.mark.parametrize(
    ("record", "named"),
    [
        ('[[source]]\nkey = "s"\ntitle = "S"\ngrade = "gold"\n', ("[[source]] #1 (s)", "grade")),
        ('[[source]]\nkey = "s"\ntitle = "S"\ncaveat = "a\\nb"\n', ("[[source]] #1 (s)", "caveat")),
        (
            '[[deadline]]\nslug = "d"\ntitle = "D"\ndue = "2027"\nconfidence = "sure"\n',
            ("[[deadline]] #1 (d)", "confidence"),
        ),
        (
            '[[meeting]]\nslug = "m"\ntitle = "M"\nkind = "plenary"\nstarts = "2027-03-01"\n'
            'confidence = "reported"\n[[meeting.claims]]\nfield = "starts"\nvalue = "x\\u202e"\n'
            'source = "nope"\n',
            ("[[meeting]] #1 (m)", "sources"),
        ),
    ],
)
def test_the_new_seed_fields_are_held_to_the_cli_s_rules(
    home: Path, db: Session, tmp_path: Path, record: str, named: tuple[str, ...]
) -> None:
    seed = tmp_path / "bad.toml"
    seed.write_text(record, encoding="utf-8")
    before = changes(db)
    result = tracker(home, "seed", str(seed))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "bad.toml" in line
    assert all(part in line for part in named), line
    assert changes(db) == before


def test_every_seeded_source_is_graded_and_the_fake_broadcaster_is_caveated(
    seeded: Path,
) -> None:
    engine = make_engine(f"sqlite:///{seeded / 'var' / 'tracker.db'}")
    with make_session_factory(engine)() as session:
        sources = list(session.scalars(select(Source)))
        items = [*session.scalars(select(Deadline)), *session.scalars(select(Meeting))]
    engine.dispose()
    grades = {s.grade for s in sources}
    assert grades == {"primary", "established", "secondary", "unverified"}
    fake = next(s for s in sources if s.publisher == "BBC Express News")
    assert fake.grade == "unverified" and "Not the BBC" in (fake.caveat or "")
    undated = [s for s in sources if s.note and "no date of publication" in s.note]
    assert undated and all("inferred" in (s.caveat or "") for s in undated)
    only_the_fake = [i for i in items if {s.key for s in i.sources} == {fake.key}]
    assert only_the_fake and {i.confidence for i in only_the_fake} == {"reported"}
