"""A seed's date to be announced (``due = "TBA"``) is kept as no date at all: reloading it, a
database from before the bases were kept, and a later upstream date all treat the row's empty
date as the seed's TBA, never as a local edit."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete

from tracker.catalog import queries, seeding
from tracker.catalog.models import SeedValue

RECORD = """[[deadline]]
slug = "undated-withdrawal"
title = "A withdrawal takes effect"
due = "{due}"
"""


def load(session_factory, path: Path, now) -> seeding.SeedReport:
    with session_factory() as session, session.begin():
        return seeding.load(session, [path], now=now)


def seed_file(tmp_path: Path, due: str) -> Path:
    path = tmp_path / "seed.toml"
    path.write_text(RECORD.format(due=due), encoding="utf-8")
    return path


def test_a_tba_due_reloads_as_unchanged(session_factory, tmp_path, now):
    path = seed_file(tmp_path, "TBA")
    load(session_factory, path, now)
    again = load(session_factory, path, now + timedelta(days=1))
    assert not again.changed and not again.conflicts


def test_a_database_without_bases_takes_a_tba_due_as_the_seeds(session_factory, tmp_path, now):
    path = seed_file(tmp_path, "TBA")
    load(session_factory, path, now)
    with session_factory() as session, session.begin():
        session.execute(delete(SeedValue))
    again = load(session_factory, path, now + timedelta(days=1))
    assert not again.conflicts


def test_a_tba_due_follows_the_seed_when_it_gets_a_date(session_factory, session, tmp_path, now):
    load(session_factory, seed_file(tmp_path, "TBA"), now)
    dated = load(session_factory, seed_file(tmp_path, "2027-02-05"), now + timedelta(days=1))
    assert not dated.conflicts
    assert queries.deadline(session, "undated-withdrawal").due_text == "2027-02-05"
