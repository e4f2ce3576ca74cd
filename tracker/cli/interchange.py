"""`tracker import FILE_OR_URL` and `tracker export --csv|--json|--ics`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli import options
from tracker.cli.app import App

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.catalog.sources import Source
    from tracker.interchange.importing import ImportReport, Incoming

pass_app = click.make_pass_decorator(App)

# How long a URL may take to arrive, in all.
FETCH_SECONDS = 30.0
FORMATS = ("ics", "csv", "json")


@click.command("import")
@click.argument("file_or_url")
@click.option("--treaty", metavar="SLUG", help="The treaty of records that name none.")
@click.option("--body", metavar="TEXT", help="The body or forum of records that name none.")
@click.option(
    "--source",
    metavar="URL_OR_KEY",
    help="What the imported facts cite: a URL or a source key (default: the URL "
    "imported, or a source made for the file).",
)
@click.option("--grade", help="A new source's grade: primary, established, secondary "
              "(default) or unverified.")  # fmt: skip
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMATS),
    help="Default: from the content (BEGIN:VCALENDAR, a JSON object, else CSV).",
)
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option(
    "--take",
    "takes",
    multiple=True,
    metavar="UID_OR_SLUG:FIELD",
    help="Take the file's value over a local edit of this field (repeatable).",
)
@pass_app
def import_(
    app: App,
    file_or_url: str,
    treaty: str | None,
    body: str | None,
    source: str | None,
    grade: str | None,
    form: str | None,
    dry_run: bool,
    takes: tuple[str, ...],
) -> None:
    """Import deadlines and meetings from an iCalendar, CSV or JSON file or URL.

    Records are known by UID (iCalendar) or slug (CSV, JSON): importing again updates
    them. A field edited locally since the last import is kept and reported as a conflict.
    All or nothing: a bad record is named by its line or component and nothing is saved.
    """
    from tracker.db import transaction
    from tracker.errors import InvalidInput

    data = _read(file_or_url)
    form = form or _format(data)
    try:
        records, left_out = _records(data, form)
    except InvalidInput as exc:
        raise InvalidInput(f"{file_or_url}: {exc}") from None

    def run(session: Session) -> ImportReport:
        try:
            return _import(session, app, records, file_or_url, treaty, body, source, grade,
                           dry_run, takes)  # fmt: skip
        except InvalidInput as exc:  # a record refused: the file and where in it
            raise InvalidInput(f"{file_or_url}: {exc}") from None

    if dry_run:
        with app.sessions() as session:
            report = run(session)
            session.rollback()
    else:
        with transaction(app.sessions) as session:
            report = run(session)
    report.skipped += left_out
    for line in report.lines(f"tracker import {shlex.quote(file_or_url)}"):
        click.echo(line)


def _read(file_or_url: str) -> bytes:
    """The bytes to import, at most MAX_BYTES, a URL within FETCH_SECONDS."""
    from tracker.errors import InvalidInput
    from tracker.interchange.importing import MAX_BYTES

    if file_or_url.startswith(("http://", "https://")):
        from tracker.interchange.fetch import FetchError, fetch

        try:
            fetched = fetch(file_or_url, max_bytes=MAX_BYTES, timeout=FETCH_SECONDS)
        except FetchError as exc:
            raise InvalidInput(f"{file_or_url}: {exc}") from None
        return fetched.data or b""
    if file_or_url == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        path = Path(file_or_url)
        try:
            with path.open("rb") as opened:
                data = opened.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InvalidInput(f"cannot read {file_or_url}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{file_or_url}: larger than {MAX_BYTES // 2**20} MB")
    return data


def _format(data: bytes) -> str:
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if head.startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    return "json" if head.startswith(b"{") else "csv"


def _records(data: bytes, form: str) -> tuple[list[Incoming], list[str]]:
    """The records of the file, and those it has that the tracker cannot keep."""
    if form == "ics":
        from tracker.interchange.ics_import import read_calendar

        return read_calendar(data)
    from tracker.interchange.csv_io import read_csv, read_json

    return (read_json(data) if form == "json" else read_csv(data)), []


def _import(
    session: Session,
    app: App,
    records: list[Incoming],
    file_or_url: str,
    treaty: str | None,
    body: str | None,
    source: str | None,
    grade: str | None,
    dry_run: bool,
    takes: tuple[str, ...],
) -> ImportReport:
    from tracker.catalog import queries
    from tracker.interchange.importing import import_records

    if treaty:
        queries.treaty(session, treaty)  # NotFound, with the closest, before anything
    cited = _source(session, source, grade, file_or_url)
    return import_records(
        session,
        records,
        source=cited,
        now=app.as_of,
        treaty=treaty,
        body=body,
        dry_run=dry_run,
        takes=takes,
    )


def _source(session: Session, given: str | None, grade: str | None, imported: str) -> Source:
    """The source the imported facts cite: the one given (a URL or a key), else the URL
    imported, else a source named after the file (made when new, graded ``grade``)."""
    from sqlalchemy import select

    from tracker import text
    from tracker.catalog.history import source_for_url
    from tracker.catalog.sources import Source, SourceGrade
    from tracker.errors import InvalidInput, NotFound

    url = given if given and "://" in given else None
    if url is None and given is None and imported.startswith(("http://", "https://")):
        url = imported
    if url is not None:
        found = source_for_url(session, url, grade)
        assert found is not None
        return found
    key = given or text.slugify(f"import {Path(imported).name}")[:100] or "import"
    source = session.scalar(select(Source).where(Source.key == key))
    if source is None and given is not None:
        raise NotFound(f"no source {given!r} (see `tracker source list`)")
    if grade is not None:
        grade = text.choice(grade, SourceGrade, "source grade")
        if source is not None and source.grade != grade:
            raise InvalidInput(
                f"source {key} is graded {source.grade}: regrade it with "
                f"`tracker source edit {key} --grade {grade}`"
            )
    if source is None:
        source = Source(
            key=key,
            title=f"Imported file {Path(imported).name}",
            grade=grade or SourceGrade.SECONDARY.value,
        )
        session.add(source)
    return source


@click.command("export")
@click.option("--csv", "form", flag_value="csv", help="CSV, the columns import reads.")
@click.option("--json", "form", flag_value="json", help="JSON, the same columns.")
@click.option("--ics", "form", flag_value="ics", help="iCalendar (the feed's events).")
@click.option("--treaty", metavar="SLUG", help="Only items of this treaty.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only this kind.")
@click.option("--within", metavar="DURATION", help="Only within e.g. 90d of today.")
@click.option("--upcoming", "scope", flag_value="upcoming", help="Not yet passed.")
@click.option("--past", "scope", flag_value="past", help="Already passed.")
@click.option("--all", "scope", flag_value="all", default=True, help="Everything (default).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")  # fmt: skip
@pass_app
def export(
    app: App,
    form: str | None,
    output: Path | None,
    treaty: str | None,
    kinds: tuple[str, ...],
    within: str | None,
    scope: str,
) -> None:
    """Write every deadline and meeting (or those the filters keep) as CSV, JSON or
    iCalendar. CSV and JSON read back with `tracker import` unchanged."""
    from tracker.catalog.queries import check_filter
    from tracker.interchange.export import render

    if form is None:
        raise click.UsageError("say which format: --csv, --json or --ics")
    flt = options.build_filter(app.today, scope, within, treaty, kinds)
    feeds = app.settings.feeds
    with app.sessions() as session:
        check_filter(session, flt)
        data = render(session, flt, form, as_of=app.as_of, title=feeds.title,
                      base_url=feeds.base_url)  # fmt: skip
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from tracker.files import write_if_changed

    write_if_changed(output, data)


COMMANDS = [import_, export]
