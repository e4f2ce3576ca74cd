"""One active daemon per database.

PostgreSQL: a session advisory lock held on a dedicated, never-pooled autocommit
connection; the heartbeat checks that connection, and losing it means the server has
released the lock. Other databases: an OS file lock (``fcntl.flock``) beside the
SQLite file (or in the data directory), released by the kernel when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

log = logging.getLogger("tracker.daemon")

# "trac" "kerd": a fixed key, the same for every daemon of this database.
ADVISORY_KEY = 0x7472_6163_6B65_7264


class DaemonLock(Protocol):
    description: str

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
        self.description = f"file lock {path}"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
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
        self.description = "PostgreSQL advisory lock"
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._connection: Connection | None = None

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
        except OperationalError as exc:
            log.warning("lost the database asking for the daemon lock: %s", _first_line(exc))
            self._connection = connection
            self._drop()
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
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


def _first_line(exc: OperationalError) -> str:
    return str(exc.orig or exc).splitlines()[0]


def _signed(key: int) -> int:
    return key - (1 << 64) if key >= 1 << 63 else key


def lock_for(url: str, data_dir: Path) -> DaemonLock:
    """The right lock for a database URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    database: Any = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        return FileLock(Path(f"{database}.daemon.lock"))
    return FileLock(data_dir / "daemon.lock")
