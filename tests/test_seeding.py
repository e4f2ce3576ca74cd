from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.catalog import history, queries, seeding
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Standing, Treaty
from tracker.errors import InvalidInput

SEEDS = seeding.default_paths()


def load(session_factory, paths, now):
    with session_factory() as session, session.begin():
        return seeding.load(session, paths, now=now)


def test_shipped_seeds_load_and_a_second_load_changes_nothing(session_factory, now):
    first = load(session_factory, SEEDS, now)
    assert first.created["treaties"] >= 9
    second = load(session_factory, SEEDS, now + timedelta(days=1))
    assert not second.changed
    assert second.summary() == "seed: nothing changed"


def test_new_start_and_its_expiry_exist(session_factory, session, now):
    load(session_factory, SEEDS, now)
    treaty = queries.treaty(session, "new-start")
    assert (treaty.signed, treaty.entered_into_force) == (date(2010, 4, 8), date(2011, 2, 5))
    assert treaty.status == "expired"
    assert treaty.standing("RU", date(2023, 3, 1)) is Standing.SUSPENDED
    expiry = queries.deadline(session, "new-start-expiry")
    assert (expiry.kind, expiry.due_text) == ("expiry", "2026-02-05")
    moves = [c for c in history.history(session, expiry) if c.field == "due"]
    assert [(c.old, c.new) for c in moves] == [("2021-02-05", "2026-02-05")]


def test_every_dated_fact_of_the_seed_documents_is_attributed(session_factory, session, now):
    load(session_factory, SEEDS, now)
    articles = {
        "The Frontier Post": "US-Russia Strategic Stability Dialogue",
        "BBC Express News": "A New Era of Diplomacy? Russia-US Engagements",
        "Atlantic Council": "",
    }
    cited = {}
    for item in [*session.scalars(select(Meeting)), *session.scalars(select(Deadline))]:
        for source in item.sources:
            cited.setdefault(source.publisher, set()).add(item.slug)
    for publisher, title in articles.items():
        source = session.scalar(select(Source).where(Source.publisher == publisher))
        assert source is not None and source.title.startswith(title)
        assert "no date of publication" in (source.note or "")
    expected = {
        "The Frontier Post": {"2021-07-28", "end of September 2021", "2021-07-29", "mid-June 2021"},
        "BBC Express News": {"first week of October 2023", "Q2 2023", "2026-02-05"},
        "Atlantic Council": {"2013-03-15"},
    }
    for publisher, dates in expected.items():
        known = set()
        for slug in cited[publisher]:
            item = session.scalar(select(Meeting).where(Meeting.slug == slug)) or queries.deadline(
                session, slug
            )
            known |= {c.old for c in history.history(session, item)} | {
                getattr(item, "starts_text", None) or getattr(item, "due_text", None)
            }
        assert dates <= known, (publisher, dates - known)


def test_planned_plenary_keeps_its_first_date_in_history(session_factory, session, now):
    load(session_factory, SEEDS, now)
    second = session.scalar(
        select(Meeting).where(Meeting.starts_text == "2021-09-30", Meeting.kind == "plenary")
    )
    assert second is not None
    moves = [(c.old, c.new) for c in history.history(session, second) if c.field == "starts"]
    assert moves == [("end of September 2021", "2021-09-30")]
    first = session.scalar(
        select(Meeting).where(Meeting.starts_text == "2021-07-28", Meeting.kind == "plenary")
    )
    heads = {d["state"]: d["head"] for d in first.delegations}
    assert "Sherman" in heads["US"] and "Ryabkov" in heads["RU"]


def test_one_bad_record_loads_nothing_and_names_file_and_record(session_factory, tmp_path, now):
    good = tmp_path / "a.toml"
    good.write_text('[[source]]\nkey = "s"\ntitle = "A source"\n')
    bad = tmp_path / "b.toml"
    bad.write_text('[[deadline]]\nslug = "x"\ntitle = "X"\ndue = "31 February 2027"\n')
    with pytest.raises(InvalidInput, match=r"b\.toml \[\[deadline\]\] #1 \(x\).*day is out"):
        load(session_factory, [tmp_path], now)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[treaty]]\nslug = "t"\n', "name: Field required"),
        ('[[deadline]]\nslug = "x"\ntitle = "X"\ndue = "2027"\ncolour = "red"\n', "colour"),
        ('[[meeting]]\nslug = "m"\ntitle = "M"\nkind = "plenary"\nstarts = 5\n', "starts"),
        ('[[widget]]\nname = "w"\n', "unknown section"),
        ('[[source]]\nkey = "a"\ntitle = "A"\n[[source]]\nkey = "a"\ntitle = "B"\n', "duplicate"),
    ],
)
def test_malformed_seed_is_refused(session_factory, tmp_path, now, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        load(session_factory, [path], now)


def test_file_that_is_not_utf8_is_refused(session_factory, tmp_path, now):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[[source]]\nkey = "s"\ntitle = "Traité"\n'.encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load(session_factory, [path], now)


def test_edited_seed_updates_the_row_and_writes_history(session_factory, session, tmp_path, now):
    path = tmp_path / "seed.toml"
    path.write_text('[[deadline]]\nslug = "review"\ntitle = "Review"\ndue = "Q3 2027"\n')
    load(session_factory, [path], now)
    path.write_text('[[deadline]]\nslug = "review"\ntitle = "Review"\ndue = "2027-08-01"\n')
    report = load(session_factory, [path], now + timedelta(days=1))
    assert report.updated == {"deadlines": 1}
    deadline = queries.deadline(session, "review")
    assert deadline.due_text == "2027-08-01"
    assert [(c.field, c.old, c.new) for c in history.history(session, deadline)][-1] == (
        "due",
        "Q3 2027",
        "2027-08-01",
    )


def test_seed_history_must_end_at_the_current_value(session_factory, tmp_path, now):
    path = tmp_path / "seed.toml"
    path.write_text(
        '[[deadline]]\nslug = "r"\ntitle = "R"\ndue = "2027"\n'
        '[[deadline.history]]\nfield = "due"\nold = "2026"\nnew = "2028"\n'
        "at = 2025-01-01T00:00:00Z\n"
    )
    with pytest.raises(InvalidInput, match="ends at"):
        load(session_factory, [path], now)


def test_seed_directory_is_found_through_the_package():
    assert (Path(SEEDS[0]) / "30-deadlines.toml").is_file()
    assert isinstance(Treaty.__table__.name, str)
