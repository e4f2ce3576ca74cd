"""The declarative base, shared column types, and the engine and session factories.

Nothing here runs at import: engines and sessions are built by the caller at the edge
and passed in.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

if TYPE_CHECKING:
    from tracker.clock import Clock
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; refuses naive ones so no local time sneaks in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


slug = Annotated[str, mapped_column(String(120), unique=True, index=True)]
short_text = Annotated[str, mapped_column(String(300))]
utc_datetime = Annotated[datetime, mapped_column(UTCDateTime())]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


SQLITE_POOL = 40


def make_engine(url: str, **options: Any) -> Engine:
    """An engine with the pragmas the daemon and the CLI both rely on."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        # How long a write waits for another's lock: 30 s, or the URL's ?timeout=SECONDS.
        seconds = float(str(make_url(url).query.get("timeout", 30)))
        # A SQLite connection is cheap to keep and dear to open (the pragmas below): keep as
        # many as the web server runs requests at once (anyio's 40 threads), or a busy
        # server opens and closes one per request past the default 5.
        if "poolclass" not in options and make_url(url).database not in (None, "", ":memory:"):
            options.setdefault("pool_size", SQLITE_POOL)
        engine = create_engine(url, connect_args={"timeout": seconds}, **options)
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, seconds))
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(busy_seconds: float, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL commits survive a killed process (the outbox writes each
    # delivery's outcome before the next send, so a kill repeats at most the one in hand)
    # without an fsync per commit; a power loss can undo the last commits, never corrupt:
    # an undone alert is planned again, an undone outcome sent again.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
    cursor.close()


def make_session_factory(engine: Engine, clock: Clock | None = None) -> sessionmaker[Session]:
    """The one session factory: its sessions write the plan marks of what they edit and
    move the catalogue's revision on, stamped by ``clock`` (the system's by default:
    the factory is made at the edge)."""
    from tracker import plan  # it maps a table on Base, defined above
    from tracker.catalog import revision
    from tracker.clock import SystemClock

    factory = sessionmaker(engine, expire_on_commit=False)
    plan.watch(factory)
    revision.watch(factory, clock if clock is not None else SystemClock())
    return factory


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or not at all. A write the
    database refuses (locked past the busy timeout, disk full, read-only) is
    :class:`~tracker.errors.WriteFailed`: one line, nothing saved."""
    from tracker.errors import WriteFailed

    try:
        with factory() as session, session.begin():
            yield session
    except OperationalError as exc:
        reason = write_failure(exc)
        if reason is None:
            raise
        raise WriteFailed(f"{reason}: nothing was saved") from exc


# What a database says when it cannot save, and how we say it (SQLite, then PostgreSQL).
_WRITE_FAILURES = (
    ("locked", "database is locked"),
    ("busy", "database is locked"),
    ("lock timeout", "database is locked"),
    ("full", "disk is full"),
    ("no space left", "disk is full"),
    ("readonly", "database is read-only"),
    ("read-only", "database is read-only"),
    ("disk i/o error", "disk I/O error"),
)


def write_failure(exc: OperationalError) -> str | None:
    """The reason a write failed, in a few words, if it is one a person can act on."""
    said = str(exc.orig).lower()
    return next((reason for words, reason in _WRITE_FAILURES if words in said), None)
