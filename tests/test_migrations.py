import shutil
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, Table, inspect

from tracker import migrations
from tracker.db import make_engine
from tracker.errors import TrackerError
from tracker.models import metadata

from .conftest import REPO
from .process import free_port


def test_upgrade_downgrade_and_upgrade_again(bare_engine):
    migrations.upgrade(bare_engine)
    assert migrations.current(bare_engine) == migrations.head(bare_engine)
    assert "deadlines" in inspect(bare_engine).get_table_names()
    migrations.downgrade(bare_engine, "base")
    assert migrations.current(bare_engine) is None
    assert "deadlines" not in inspect(bare_engine).get_table_names()
    migrations.upgrade(bare_engine)
    assert migrations.current(bare_engine) == migrations.head(bare_engine)


def test_models_and_migrations_agree(engine):
    assert migrations.differences(engine) == []


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the repository's alembic/ (and the pyproject.toml that marks a checkout)."""
    shutil.copytree(REPO / "alembic", tmp_path / "alembic")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return migrations.checkout_alembic(tmp_path / "alembic")


def test_a_new_revision_holds_what_the_models_add_over_the_database(
    engine: Engine, checkout: Path
) -> None:
    head = migrations.head(engine)
    assert head is not None
    table = Table("scratch_notes", metadata, Column("id", Integer, primary_key=True))
    try:
        written = migrations.revision(engine, "add scratch notes", checkout)
    finally:
        metadata.remove(table)

    assert written.compared
    assert written.path == checkout / "versions" / f"{int(head) + 1:04d}_add_scratch_notes.py"
    source = written.path.read_text()
    assert f'down_revision: str | None = "{head}"' in source
    assert 'op.create_table(\n        "scratch_notes"' in source


def test_without_a_database_the_new_revision_is_empty(checkout: Path) -> None:
    unreachable = make_engine(f"postgresql+psycopg://tracker@127.0.0.1:{free_port()}/tracker")
    written = migrations.revision(unreachable, "by hand", checkout)
    assert not written.compared
    source = written.path.read_text()
    assert "def upgrade() -> None:\n    pass" in source and "op." not in source


def test_a_database_behind_head_is_upgraded_first(bare_engine: Engine, checkout: Path) -> None:
    with pytest.raises(TrackerError, match=r"at revision base.*run `tracker db upgrade` first"):
        migrations.revision(bare_engine, "too early", checkout)
    assert sorted(p.name for p in (checkout / "versions").glob("*.py")) == sorted(
        p.name for p in (REPO / "alembic" / "versions").glob("*.py")
    )


def test_an_installed_copy_writes_no_revision(tmp_path: Path) -> None:
    bundled = tmp_path / "site-packages" / "tracker" / "_resources" / "alembic"
    bundled.mkdir(parents=True)
    with pytest.raises(TrackerError, match=r"source checkout's alembic/versions/"):
        migrations.checkout_alembic(bundled)
