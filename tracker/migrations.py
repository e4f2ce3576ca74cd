"""Thin wrappers over ``alembic.command``: the schema is alembic's, always."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, event, func, inspect, select
from sqlalchemy import table as sql_table
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from alembic import command
from tracker import resources
from tracker.errors import TrackerError


def alembic_config(engine: Engine, location: Path | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location or resources.path("alembic")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _migrating(engine) as migrating:
        command.upgrade(alembic_config(migrating), revision)


# Any 64-bit number that no other part of the tracker takes as an advisory lock.
MIGRATION_LOCK_KEY = 0x74726163_6B6D6967  # "trackmig"


@contextmanager
def _migrating(engine: Engine) -> Iterator[Engine]:
    """The engine a migration runs on: one run at a time, all or nothing.

    PostgreSQL: DDL is transactional; a transaction-level advisory lock makes a second run
    wait, then find the schema at its revision. SQLite: pysqlite opens no transaction for
    DDL, so a failed step left the schema half-way; a private engine opens one with the
    write lock (BEGIN IMMEDIATE, which also makes a second run wait) and turns foreign keys
    off while tables are rebuilt, as alembic's batch mode needs (a parent table is dropped
    and renamed back; with foreign keys on, its rows' references refuse that)."""
    if engine.dialect.name == "postgresql":

        def lock(connection: Connection) -> None:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")

        event.listen(engine, "begin", lock)
        try:
            yield engine
        finally:
            event.remove(engine, "begin", lock)
        return
    if engine.dialect.name != "sqlite":
        yield engine
        return
    from tracker.db import make_engine

    private = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)

    @event.listens_for(private, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit transactions: ours, below
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(private, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        yield private
    finally:
        private.dispose()


def downgrade(engine: Engine, revision: str, *, force: bool = False) -> None:
    """Downgrade to ``revision``; refused (nothing changed) when it would drop tables that
    hold rows, unless ``force``."""
    if not force:
        lost = would_lose(engine, revision)
        if lost:
            said = ", ".join(f"{table} ({rows} row{'s' * (rows != 1)})" for table, rows in lost)
            raise TrackerError(
                f"downgrading to {revision} would drop tables holding rows: {said}; "
                "nothing changed (add --force to drop them)"
            )
    with _migrating(engine) as migrating:
        command.downgrade(alembic_config(migrating), revision)


# Tables whose rows are the tracker's own bookkeeping, rebuilt as it goes, not anyone's
# data: a downgrade may drop them without asking.
BOOKKEEPING = frozenset({"alembic_version", "revisions", "throttles"})


def would_lose(engine: Engine, revision: str) -> list[tuple[str, int]]:
    """The tables a downgrade to ``revision`` would drop that hold rows, with their counts.

    Which tables a revision has is read from a scratch SQLite database migrated to it (the
    migrations make the same tables on every backend)."""
    target = _resolve(engine, revision)
    kept = _tables_at(target)
    present = set(inspect(engine).get_table_names()) - BOOKKEEPING
    lost = []
    with engine.connect() as connection:
        for table in sorted(present - kept):
            rows = connection.scalar(select(func.count()).select_from(sql_table(table)))
            if rows:
                lost.append((table, int(rows)))
    return lost


def _resolve(engine: Engine, revision: str) -> str | None:
    """An absolute revision (None for base) from what ``alembic downgrade`` accepts."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    if revision == "base":
        return None
    if revision.startswith("-") and revision[1:].isdigit():
        at = current(engine)
        for _ in range(int(revision[1:])):
            if at is None:
                raise TrackerError(f"cannot go {revision} revisions down from here")
            down = script.get_revision(at).down_revision
            at = down if isinstance(down, str) or down is None else down[0]
        return at
    try:
        found = script.get_revision(revision)
    except CommandError as exc:
        raise TrackerError(f"unknown revision {revision!r}: {exc}") from None
    if found is None:
        raise TrackerError(f"unknown revision {revision!r}")
    return found.revision


def _tables_at(revision: str | None) -> set[str]:
    if revision is None:
        return set()
    from tracker.db import make_engine

    with tempfile.TemporaryDirectory(prefix="tracker-downgrade-") as folder:
        scratch = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        try:
            upgrade(scratch, revision)
            return set(inspect(scratch).get_table_names()) - {"alembic_version"}
        finally:
            scratch.dispose()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def differences(engine: Engine) -> list[Any]:
    """What the models have that the migrated database lacks (empty when they agree)."""
    from alembic.autogenerate import compare_metadata

    from tracker.models import metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, metadata))


@dataclass(frozen=True)
class Written:
    path: Path
    compared: bool  # False: the database was not reachable, the revision is empty


def checkout_alembic(location: Path) -> Path:
    """``location`` when it is the top-level ``alembic/`` of a source checkout; an installed
    wheel carries a copy inside the package, where a new revision would be lost."""
    if not (location.parent / "pyproject.toml").is_file():
        raise TrackerError(
            f"`tracker db revision` writes into a source checkout's alembic/versions/, "
            f"and this tracker runs from an installed copy ({location}): "
            "run it from a clone of the repository (pip install -e .)"
        )
    return location


def revision(engine: Engine, message: str, location: Path) -> Written:
    """Write the next revision into ``location``/versions: what the models add over the
    database (which must be at head), or an empty one when the database cannot be reached."""
    config = alembic_config(engine, location)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    _format_with_ruff(config)
    latest = ScriptDirectory.from_config(config).get_current_head()
    number = f"{int(latest) + 1:04d}" if latest and latest.isdigit() else None
    compared = _reachable(engine)
    try:
        script = command.revision(config, message, autogenerate=compared, rev_id=number)
    except CommandError as exc:
        if "not up to date" in str(exc):
            raise TrackerError(
                f"the database is at revision {current(engine) or 'base'}, not {latest}: "
                "run `tracker db upgrade` first, so the new revision holds only what the "
                "models add"
            ) from None
        raise
    assert script is not None and not isinstance(script, list)  # one revision, one head
    return Written(Path(script.path), compared)


def _reachable(engine: Engine) -> bool:
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False


def _format_with_ruff(config: Config) -> None:
    """Leave the new file lint-clean (unused template imports dropped, formatted) when the
    contributor's environment has ruff, as the dev extra installs it."""
    ruff = Path(sys.executable).parent / "ruff"
    executable = str(ruff) if ruff.is_file() else shutil.which("ruff")
    if executable is None:
        return
    config.set_section_option("post_write_hooks", "hooks", "fix, format")
    for hook, options in (("fix", "check --fix --quiet"), ("format", "format --quiet")):
        config.set_section_option("post_write_hooks", f"{hook}.type", "exec")
        config.set_section_option("post_write_hooks", f"{hook}.executable", executable)
        config.set_section_option(
            "post_write_hooks", f"{hook}.options", f"{options} REVISION_SCRIPT_FILENAME"
        )
