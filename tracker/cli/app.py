"""What every command shares: settings, database, and the moment to compute as of.

Built lazily, so ``tracker --help`` loads none of it.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.clock import Clock
    from tracker.settings import Settings


def resume_collection() -> None:
    """Turn the garbage collector back on if :func:`tracker.cli.main.main` held it off for
    the start-up (until the engine is made). What start-up allocated lives until exit, so
    it is frozen: never scanned again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


@dataclass
class App:
    config_file: Path | None = None
    database_url: str | None = None
    as_of_text: str | None = None
    debug: bool = False
    # ``--known-at``: replay the catalogue as known then (None: all that is recorded).
    known_at_text: str | None = None

    @cached_property
    def settings(self) -> Settings:
        from tracker.settings import load_settings

        return load_settings(self.config_file, database_url=self.database_url)

    @cached_property
    def engine(self) -> Engine:
        from sqlalchemy.exc import ArgumentError

        from tracker.db import make_engine
        from tracker.errors import ConfigError

        try:
            engine = make_engine(self.settings.effective_database_url)
        except ArgumentError as exc:  # a typo in the URL: name the setting, not the password
            reason = "unknown database driver" if "plugin" in str(exc) else "not a database URL"
            raise ConfigError(
                f"setting 'database_url': {reason} (expected e.g. "
                "postgresql+psycopg://user@host/name or sqlite:///path/tracker.db)"
            ) from None
        resume_collection()  # the settings, the driver and the command's modules are loaded
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from tracker.db import make_session_factory

        return make_session_factory(self.engine)

    @cached_property
    def clock(self) -> Clock:
        """The system clock, or a fixed one at the start of ``--as-of`` in our time zone."""
        from tracker.clock import FixedClock, SystemClock
        from tracker.dates import parse

        if self.as_of_text is None:
            return SystemClock()
        return FixedClock(parse(self.as_of_text).start(self.settings.timezone))

    @cached_property
    def as_of(self) -> datetime:
        return self.clock.now()

    @cached_property
    def known_at(self) -> datetime | None:
        """The start of ``--known-at`` in our time zone; None without it (as known now)."""
        from tracker.views.knowledge import moment

        return moment(self.known_at_text, self.settings.timezone)

    def close(self) -> None:
        """Give back the database connections, if any were opened."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    @property
    def today(self) -> date:
        from tracker.dates import zone

        return self.as_of.astimezone(zone(self.settings.timezone)).date()
