"""The ``tracker`` command: global options, error handling, and the command groups.

Command modules import only click at load time, and only the module of the command that
runs is imported; each command imports the heavy parts (SQLAlchemy's ORM, alembic,
APScheduler) when it runs, so ``tracker --help`` stays fast.
"""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path

import click

from tracker.cli.app import App

# The module under tracker.cli that defines each command: a command imports its own
# module only (they take ~25 ms together to import), `tracker --help` imports them all.
COMMAND_MODULES = {
    "init": "database",
    "seed": "database",
    "db": "database",
    "treaty": "treaty",
    "deadline": "deadline",
    "meeting": "meeting",
    "source": "source",
    "forecast": "forecast",
    "history": "history",
    "countdown": "board",
    "upcoming": "board",
    "stats": "stats",
    "notifiers": "notify",
    "feed": "notify",
    "subscriber": "subscribers",
    "alerts": "alerts",
    "digest": "alerts",
    "daemon": "alerts",
    "worker": "worker",
    "serve": "serve",
    "config": "config",
    "import": "interchange",
    "export": "interchange",
}


KNOWN_AT_HELP = (
    "List and show the catalogue as known at this moment: items announced later are "
    "absent, dates and statuses are those then believed (default: all that is recorded)."
)


def _set_known_at(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--known-at`` given after a command: the same as before it."""
    if value is not None:
        ctx.find_object(App).known_at_text = value  # type: ignore[union-attr]


def with_known_at(command: click.Command) -> click.Command:
    """The command (and a group's commands) taking ``--known-at`` after its name too."""
    if not any(param.name == "late_known_at" for param in command.params):
        command.params.append(
            click.Option(
                ["--known-at", "late_known_at"],
                metavar="DATE-EXPRESSION",
                expose_value=False,
                callback=_set_known_at,
                help=KNOWN_AT_HELP,
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_known_at(sub)
    return command


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"tracker.cli.{COMMAND_MODULES[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(with_known_at(command))
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    envvar="TRACKER_CONFIG",
    help="Settings file (TOML) over the defaults.",
)
@click.option("--database-url", help="SQLAlchemy URL; overrides the settings.")
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE-EXPRESSION",
    help="Compute everything as of this moment (default: now).",
)
@click.option("--known-at", "known_at", metavar="DATE-EXPRESSION", help=KNOWN_AT_HELP)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="tracker")
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: Path | None,
    database_url: str | None,
    as_of: str | None,
    known_at: str | None,
    debug: bool,
) -> None:
    """Arms control treaty tracker: countdowns, meeting agendas and alerts."""
    ctx.obj = app = App(
        config_file=config_file,
        database_url=database_url,
        as_of_text=as_of,
        debug=debug,
        known_at_text=known_at,
    )
    ctx.call_on_close(app.close)


def main() -> None:
    # Starting a command allocates a few hundred thousand objects (SQLAlchemy, pydantic, our
    # models) that all live until exit; the collector would scan them again and again, a
    # tenth of a short command's time. App.engine turns it back on once they are loaded.
    gc.disable()
    debug = "--debug" in sys.argv
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # one line for the user; --debug shows the traceback
        if debug:
            raise
        code, message = describe(exc)
        click.echo(f"error: {message}", err=True)
        sys.exit(code)


def describe(exc: Exception) -> tuple[int, str]:
    from tracker.errors import TrackerError

    if isinstance(exc, TrackerError):
        return exc.exit_code, str(exc)
    module = type(exc).__module__
    if module.startswith("sqlalchemy"):
        from sqlalchemy.exc import OperationalError

        from tracker.db import write_failure

        # A write refused outside tracker.db.transaction (which says so itself).
        failure = write_failure(exc) if isinstance(exc, OperationalError) else None
        if failure:
            return 1, f"{failure}: nothing was saved"
        first_line = str(getattr(exc, "orig", exc)).splitlines()[0]
        missing = "no such table" in first_line or "relation" in first_line
        hint = "is the database initialised? run `tracker init`" if missing else "see database_url"
        return 1, f"database: {first_line} ({hint})"
    return 1, f"{type(exc).__name__}: {exc} (run with --debug for details)"
