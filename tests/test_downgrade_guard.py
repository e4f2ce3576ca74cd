"""`tracker db downgrade` that would drop tables holding rows refuses, names them with their
row counts and changes nothing; --force drops them (#13 item 7)."""

from __future__ import annotations

import re
from pathlib import Path

from .process import tracker


def test_a_downgrade_that_would_drop_rows_is_refused_without_force(home: Path) -> None:
    assert tracker(home, "subscriber", "add", "analyst@example.org").returncode == 0
    head = tracker(home, "db", "current").stdout

    refused = tracker(home, "db", "downgrade", "base")

    assert refused.returncode == 1 and refused.stdout == ""
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "subscribers (1 row)" in line and re.search(r"deadlines \(\d+ rows\)", line)
    assert "--force" in line and "nothing changed" in line
    assert tracker(home, "db", "current").stdout == head
    assert "analyst@example.org" in tracker(home, "subscriber", "list").stdout

    forced = tracker(home, "db", "downgrade", "base", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "at revision base" in forced.stdout


def test_a_downgrade_that_drops_only_empty_tables_goes_ahead(home: Path) -> None:
    assert tracker(home, "db", "downgrade", "base", "--force").returncode == 0
    assert tracker(home, "db", "upgrade").returncode == 0
    done = tracker(home, "db", "downgrade", "base")
    assert done.returncode == 0, done.stderr
    assert "at revision base" in done.stdout


def test_an_unknown_revision_is_one_line(home: Path) -> None:
    result = tracker(home, "db", "downgrade", "nope")
    assert result.returncode != 0 and "unknown revision 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
