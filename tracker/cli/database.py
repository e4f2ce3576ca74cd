"""`tracker init`, `tracker db ...` and `tracker seed`."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.app import App
from tracker.cli.output import progress

pass_app = click.make_pass_decorator(App)


def _seed(app: App, paths: tuple[Path, ...]) -> str:
    from tracker.catalog import seeding
    from tracker.db import transaction

    with progress("seeding") as update, transaction(app.sessions) as session:
        report = seeding.load(session, list(paths), now=app.as_of, progress=update)
    return report.summary()


@click.command()
@pass_app
def init(app: App) -> None:
    """Create or upgrade the database and load the seed data."""
    from tracker import migrations

    migrations.upgrade(app.engine)
    click.echo(f"database ready at revision {migrations.current(app.engine)}")
    click.echo(_seed(app, ()))


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_app
def seed(app: App, paths: tuple[Path, ...]) -> None:
    """Load seed files (default: the shipped seeds/), all or nothing."""
    click.echo(_seed(app, paths))


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
@pass_app
def downgrade(app: App, revision: str) -> None:
    """Downgrade the schema to REVISION (``base`` removes everything)."""
    from tracker import migrations

    migrations.downgrade(app.engine, revision)
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
