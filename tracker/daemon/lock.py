"""One active daemon per database.

PostgreSQL: a session advisory lock held on a dedicated, never-pooled autocommit
connection; the heartbeat checks that connection, and losing it means the server has
released the lock. Advisory locks belong to the database they are taken in, so two
databases on one server do not block each other. Other databases: an OS file lock
(``fcntl.flock``) beside the SQLite file (or in the data directory), released by the
kernel when the process dies. The lock file is named after the database file's real path
(symlinks, ``..`` and the working directory resolved), so every spelling of one file
meets the same lock. The holder writes its pid into it (and names itself to PostgreSQL),
so a standby can say who is active.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

log = logging.getLogger("tracker.daemon")

# "trac" "kerd": a fixed key, the same for every daemon of this database.
ADVISORY_KEY = 0x7472_6163_6B65_7264

# Who holds the advisory lock: pg_locks splits a bigint key into classid (high 32 bits)
# and objid (low 32 bits), objsubid 1.
_ADVISORY_HOLDER = text(
    "SELECT a.application_name, a.client_addr FROM pg_locks l"
    " JOIN pg_stat_activity a ON a.pid = l.pid"
    " JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid = :high AND l.objid = :low"
)


class DaemonLock(Protocol):
    @property
    def description(self) -> str:
        """The lock, and who held it at the last failed try (for the standby's log)."""
        ...

    def acquire(self) -> bool:
        """Take the lock without waiting; True when this process now holds it."""
        ...

    def healthy(self) -> bool:
        """Whether the lock is still held (the heartbeat)."""
        ...

    def release(self) -> None: ...


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.holder: str | None = None
        self._file: IO[str] | None = None

    @property
    def description(self) -> str:
        held = f", held by pid {self.holder}" if self.holder else ""
        return f"file lock {self.path}{held}"

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            self.holder = handle.read().strip() or None
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file, self.holder = handle, None
        return True

    def healthy(self) -> bool:
        return self._file is not None and not self._file.closed

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLock:
    def __init__(self, url: str) -> None:
        self.url = url
        self.holder: str | None = None
        # PostgreSQL keeps at most 63 bytes of a name.
        name = f"tracker daemon pid {os.getpid()} on {socket.gethostname()}"[:63]
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": name},
        )
        self._connection: Connection | None = None

    @property
    def description(self) -> str:
        held = f", held by {self.holder}" if self.holder else ""
        return f"PostgreSQL advisory lock{held}"

    def acquire(self) -> bool:
        """Whether the lock is now ours; False also while the database is unreachable
        (a restart, a network cut), so the daemon stands by and tries again."""
        try:
            connection = self._engine.connect()
        except OperationalError as exc:
            log.warning("cannot reach the database for the daemon lock: %s", _first_line(exc))
            return False
        try:
            got = connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _signed(ADVISORY_KEY)}
            )
            if not got:
                self.holder = _advisory_holder(connection)
        except OperationalError as exc:
            log.warning("lost the database asking for the daemon lock: %s", _first_line(exc))
            self._connection = connection
            self._drop()
            return False
        if not got:
            connection.close()
            return False
        self._connection, self.holder = connection, None
        return True

    def healthy(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception as exc:
            log.error("lost the database connection holding the daemon lock: %s", exc)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _signed(ADVISORY_KEY)}
                )
            finally:
                self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already gone: nothing to close
                log.debug("closing a broken lock connection failed", exc_info=True)
            self._connection = None


def _advisory_holder(connection: Connection) -> str | None:
    """The holder's name and address; None when it let go meanwhile (or hides its name)."""
    row = connection.execute(
        _ADVISORY_HOLDER, {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFF_FFFF}
    ).first()
    if row is None or not row.application_name:
        return None
    return f"{row.application_name} ({row.client_addr or 'local socket'})"


def _first_line(exc: OperationalError) -> str:
    return str(exc.orig or exc).splitlines()[0]


def _signed(key: int) -> int:
    return key - (1 << 64) if key >= 1 << 63 else key


def lock_for(url: str, data_dir: Path) -> DaemonLock:
    """The right lock for a database URL: for SQLite, one per database file however
    the URL spells its path."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    database: Any = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        real = os.path.realpath(database)
        _warn_of_hard_links(Path(real))
        return FileLock(Path(f"{real}.daemon.lock"))
    return FileLock(Path(os.path.realpath(data_dir)) / "daemon.lock")


def _warn_of_hard_links(database: Path) -> None:
    try:
        links = database.stat().st_nlink
    except OSError:  # not created yet: `tracker init` makes it
        return
    if links > 1:
        log.warning(
            "%s has %d hard links: SQLite (and so the daemon lock) takes each name for "
            "another database; keep one name, or a symlink",
            database,
            links,
        )
