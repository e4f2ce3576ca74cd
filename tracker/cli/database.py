"""`tracker init`, `tracker db ...` and `tracker seed`."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from tracker.cli.app import App
from tracker.cli.output import progress

pass_app = click.make_pass_decorator(App)


def _seed(app: App, paths: tuple[Path, ...], takes: tuple[str, ...] = ()) -> None:
    """Load the seeds; say what changed and each conflict only once it is committed."""
    from tracker.catalog import seed_base, seeding
    from tracker.db import transaction

    wanted = [seed_base.FieldRef.parse(spec) for spec in takes]
    with progress("seeding") as update, transaction(app.sessions) as session:
        report = seeding.load(session, list(paths), now=app.as_of, progress=update, takes=wanted)
    command = " ".join(["tracker seed", *(shlex.quote(str(p)) for p in paths)])
    for line in report.lines(command):
        click.echo(line)


@click.command()
@pass_app
def init(app: App) -> None:
    """Create or upgrade the database and load the seed data."""
    from tracker import migrations

    migrations.upgrade(app.engine)
    click.echo(f"database ready at revision {migrations.current(app.engine)}")
    _seed(app, ())


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--take",
    "takes",
    multiple=True,
    metavar="SECTION:IDENTITY:FIELD",
    help="Take the seed's value of this field over a local edit (e.g. deadline:SLUG:due).",
)
@pass_app
def seed(app: App, paths: tuple[Path, ...], takes: tuple[str, ...]) -> None:
    """Load seed files (default: the shipped seeds/), all or nothing. A field edited
    locally is kept; where the seed changed it too, the conflict is printed."""
    _seed(app, paths, takes)


@click.group()
def db() -> None:
    """Database schema: upgrade, downgrade, current revision; new revisions."""


@db.command()
@click.argument("revision", default="head")
@pass_app
def upgrade(app: App, revision: str) -> None:
    """Upgrade the schema (default: to head)."""
    from tracker import migrations

    migrations.upgrade(app.engine, revision)
    click.echo(f"at revision {migrations.current(app.engine)}")


@db.command()
@click.argument("revision")
@click.option("--force", is_flag=True, help="Drop tables even when they hold rows.")
@pass_app
def downgrade(app: App, revision: str, force: bool) -> None:
    """Downgrade the schema to REVISION (``base`` removes everything). Refused when it
    would drop tables that hold rows, unless --force."""
    from tracker import migrations

    migrations.downgrade(app.engine, revision, force=force)
    click.echo(f"at revision {migrations.current(app.engine) or 'base'}")


@db.command()
@pass_app
def current(app: App) -> None:
    """Show the schema revision of the database."""
    from tracker import migrations

    revision = migrations.current(app.engine)
    head = migrations.head(app.engine)
    state = "up to date" if revision == head else f"head is {head}"
    click.echo(f"{revision or 'base'} ({state})")


@db.command()
@click.option("-m", "--message", required=True, help="What the revision changes.")
@pass_app
def revision(app: App, message: str) -> None:
    """Write a new migration into the checkout's alembic/versions/ (for contributors): what
    the models add over the database, or an empty one when it cannot be reached."""
    from tracker import migrations, resources

    location = migrations.checkout_alembic(resources.path("alembic"))
    written = migrations.revision(app.engine, message, location)
    how = "compared with the database" if written.compared else "empty: no database reached"
    click.echo(f"wrote {written.path} ({how})")


COMMANDS = [init, seed, db]
