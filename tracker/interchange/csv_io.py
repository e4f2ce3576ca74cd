"""Deadlines and meetings as table rows: the columns ``tracker export --csv`` writes (and
``--json``, as objects) and ``tracker import`` reads back, each record known by its slug.

A row's ``type`` is ``deadline`` or ``meeting``; a column a file leaves out is left as it
is, an empty cell empties the field (a date, ``due`` or ``starts``, becomes to be
announced). Dates are written as the CLI takes them; ``sources`` are the URLs the record
cites, separated by spaces (a source without a URL is not written); ``uid`` is kept by a
new item, so a calendar client sees the same event after a move between databases.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from tracker.catalog.models import Deadline, Meeting
from tracker.errors import InvalidInput
from tracker.interchange.importing import Incoming

COLUMNS = (
    "type",
    "slug",
    "uid",
    "title",
    "treaty",
    "body",
    "kind",
    "status",
    "status_on",
    "confidence",
    "due",
    "starts",
    "ends",
    "tz",
    "location",
    "series",
    "recurrence",
    "alert",
    "confirm_ahead",
    "outcome",
    "notes",
    "sources",
)
TYPES = ("deadline", "meeting")
# Each type's columns and the option (CLI name) each is read by; the rest are the record's.
OPTIONS: dict[str, dict[str, str]] = {
    "deadline": {"due": "due", "notes": "note"},
    "meeting": {
        "starts": "starts",
        "ends": "ends",
        "location": "location",
        "series": "series",
        "recurrence": "repeat",
        "outcome": "outcome",
    },
}
SHARED = {
    "title": "title",
    "body": "body",
    "kind": "kind",
    "status": "status",
    "status_on": "status_on",
    "confidence": "confidence",
    "tz": "tz",
    "alert": "alert",
    "confirm_ahead": "confirm_ahead",
}
RECORD = {"type", "slug", "uid", "treaty", "sources"}
# The columns of the other type, left out of a JSON record.
_NOT_OF = {"deadline": set(OPTIONS["meeting"]), "meeting": set(OPTIONS["deadline"])}


def row(item: Deadline | Meeting) -> dict[str, str]:
    """An item as a row of :data:`COLUMNS` (a column the type has not: empty)."""
    values: dict[str, str | None] = {
        "type": "deadline" if isinstance(item, Deadline) else "meeting",
        "slug": item.slug,
        "uid": item.uid,
        "title": item.title,
        "treaty": item.treaty.slug if item.treaty else None,
        "body": item.body,
        "kind": item.kind,
        "status": item.status,
        "status_on": item.status_on.isoformat() if item.status_on else None,
        "confidence": item.confidence,
        "tz": item.tz,
        "alert": item.alert_leads,
        "confirm_ahead": f"{item.confirm_lead_days}d" if item.confirm_lead_days else None,
        "sources": " ".join(s.url for s in item.sources if s.url) or None,
    }
    if isinstance(item, Deadline):
        values |= {"due": item.due_text or "TBA", "notes": item.notes}
    else:
        values |= {
            "starts": item.starts_text or "TBA",
            "ends": item.ends_text,
            "location": item.location,
            "series": item.series,
            "recurrence": item.recurrence,
            "outcome": item.outcome,
        }
    return {column: values.get(column) or "" for column in COLUMNS}


# A cell a spreadsheet would run as a formula (OWASP "CSV injection") is written after a
# quote, which the spreadsheet shows as text and :func:`read_csv` takes off again.
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "'")


def _inert(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA) else cell


def _as_written(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA) else cell


def write_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: _inert(cell) for column, cell in row.items()} for row in rows)
    return out.getvalue()


def write_json(rows: list[dict[str, str]]) -> str:
    """The rows as JSON objects (an empty cell is null; sources a list)."""
    records = [
        {
            column: (value.split() if column == "sources" else value) or None
            for column, value in one.items()
            if column not in _NOT_OF[one["type"]]
        }
        for one in rows
    ]
    document = {"format": "tracker-records", "version": 1, "records": records}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def read_csv(data: bytes) -> list[Incoming]:
    """The records of a CSV file with a header of :data:`COLUMNS` (any subset with
    ``type`` and ``title``, in any order). InvalidInput names the line of a bad one."""
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidInput(f"line 1: {exc}") from None
    if header is None:
        raise InvalidInput("line 1: the file is empty (expected a header: type,title,...)")
    names = [name.strip().lower() for name in header]
    _check_header(names)
    records, line = [], reader.line_num + 1
    try:
        for cells in reader:
            where, line = f"line {line}", reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                raise InvalidInput(f"{where}: {len(cells)} cells, the header has {len(names)}")
            cells = [_as_written(cell) for cell in cells]
            records.append(_incoming(dict(zip(names, cells, strict=True)), where))
    except csv.Error as exc:
        raise InvalidInput(f"line {line}: {exc}") from None
    return records


def read_json(data: bytes) -> list[Incoming]:
    """The records of a ``tracker export --json`` file."""
    try:
        document = json.loads(_text(data))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"line {exc.lineno}: not JSON ({exc.msg})") from None
    found = document.get("records") if isinstance(document, dict) else None
    if not isinstance(found, list):
        raise InvalidInput('JSON: expected {"records": [...]} as tracker export --json writes')
    records = []
    for number, one in enumerate(found, start=1):
        where = f"record {number}"
        if not isinstance(one, dict):
            raise InvalidInput(f"{where}: not an object")
        _check_header([str(name) for name in one])
        cells = {name: _cell(value, f"{where}, {name}") for name, value in one.items()}
        records.append(_incoming(cells, where))
    return records


def _cell(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    if isinstance(value, str | int):
        return str(value)
    raise InvalidInput(f"{where}: expected text")


def _text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"line {line}: not UTF-8 text") from None
    if "\x00" in text:
        raise InvalidInput(f"line {text[: text.index(chr(0))].count(chr(10)) + 1}: a NUL byte")
    return text


def _check_header(names: list[str]) -> None:
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise InvalidInput(f"line 1: unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})")
    if len(set(names)) != len(names):
        raise InvalidInput("line 1: a column is named twice")
    missing = [name for name in ("type", "title") if name not in names]
    if missing:
        raise InvalidInput(f"line 1: no {missing[0]!r} column (columns: {', '.join(COLUMNS)})")


def _incoming(cells: Mapping[str, str], where: str) -> Incoming:
    type_ = cells["type"].strip().lower()
    if type_ not in TYPES:
        raise InvalidInput(f"{where}: type {cells['type']!r}: expected deadline or meeting")
    own = OPTIONS[type_]
    others = [c for c in cells if c not in own and c not in SHARED and c not in RECORD]
    if any(cells[c].strip() for c in others):
        name = next(c for c in others if cells[c].strip())
        raise InvalidInput(f"{where}: a {type_} has no {name}")
    read = own | SHARED
    options = {option: cells[column].strip() for column, option in read.items() if column in cells}
    slug = cells.get("slug", "").strip()
    if not slug:
        from tracker import text

        slug = text.slugify(cells["title"])[:100]
    treaty = cells["treaty"].strip() if "treaty" in cells else None
    return Incoming(
        type=type_,
        identity=slug,
        where=where,
        options=dict(options),
        uid=cells.get("uid", "").strip() or None,
        slug=slug,
        treaty=treaty,
        sources=tuple(cells.get("sources", "").split()),
    )
