"""`tracker treaty import-parties`: Wikidata's SPARQL JSON results of the shipped query, from
a file, a URL and the configured endpoint (a local HTTP server), merged in one transaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tracker.catalog import queries, seeding
from tracker.db import transaction
from tracker.errors import InvalidInput
from tracker.interchange import wikidata
from tracker.interchange.parties import import_parties

from ..conftest import CURRENT_TIME
from ..process import tracker
from .sparql_results import TREATY_QID, binding, many_states, results

WIKIDATA = f"wikidata-{TREATY_QID.lower()}"

SEED = """
[[source]]
key = "fx-depositary"
title = "Status of signature and ratification"
url = "https://example.org/status"
grade = "primary"

[[treaty]]
slug = "fxt"
name = "Fixture Test-Ban Treaty"
short_name = "FXT"
kind = "multilateral"
status = "not-in-force"
sources = ["fx-depositary"]

[[participation]]
treaty = "fxt"
state = "RU"
event = "ratified"
date = 2000-06-30
sources = ["fx-depositary"]
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    assert tracker(tmp_path, "db", "upgrade").returncode == 0
    (tmp_path / "fixture.toml").write_text(SEED)
    seeded = tracker(tmp_path, "seed", "fixture.toml")
    assert seeded.returncode == 0, seeded.stderr
    return tmp_path


def parties(home: Path) -> dict[str, Any]:
    shown = tracker(home, "--as-of", "2026-12-03", "treaty", "show", "fxt", "--parties", "--json")
    assert shown.returncode == 0, shown.stderr
    return {party["state"]: party for party in json.loads(shown.stdout)["parties"]}


def test_190_states_from_a_file_are_all_added_and_importing_again_changes_nothing(home):
    (home / "parties.json").write_bytes(many_states(190))

    first = tracker(home, "treaty", "import-parties", "fxt", "--from-file", "parties.json")
    assert first.returncode == 0, first.stderr
    after_first = parties(home)
    assert len(after_first) == 190
    imported = [e for p in after_first.values() for e in p["events"] if _cites(e, WIKIDATA)]
    assert len(imported) == 190 + 152 - 1  # RU's ratification stays the depositary's
    assert "341 added, 0 updated, 0 removed" in first.stdout
    assert all(
        s["grade"] == "secondary" and s["url"].endswith(TREATY_QID)
        for e in imported
        for s in e["sources"]
    )

    again = tracker(home, "treaty", "import-parties", "fxt", "--from-file", "parties.json")
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 updated, 0 removed" in again.stdout
    assert "(0 conflict records written)" in again.stdout
    assert parties(home) == after_first


def test_signature_then_consent_is_ratification_and_consent_alone_is_accession(home):
    rows = [
        binding("FR", "France", "signatory", "1996-09-24"),
        binding("FR", "France", "party", "1998-04-06"),
        binding("IN", "India", "party", "2001-05-17"),
        binding("BR", "Brazil", "party", "1998-01-01", precision=9),
    ]
    (home / "p.json").write_bytes(results(rows))
    assert tracker(home, "treaty", "import-parties", "fxt", "--from-file", "p.json").returncode == 0

    found = parties(home)
    assert [(e["event"], e["date"]) for e in found["FR"]["events"]] == [
        ("signed", "1996-09-24"),
        ("ratified", "1998-04-06"),
    ]
    assert found["FR"]["standing"] == "party" and found["FR"]["name"] == "France"
    assert [e["event"] for e in found["IN"]["events"]] == ["acceded"]
    brazil = found["BR"]["events"][0]
    assert (brazil["date"], brazil["note"]) == (
        "1998-01-01",
        "Wikidata gives this date to the year only (1998)",
    )


def test_a_date_conflicting_with_a_primary_source_is_kept_beside_it_and_shown(home):
    rows = [binding("RU", "Russia", "signatory", "1996-09-24")]
    rows.append(binding("RU", "Russia", "party", "2000-07-01"))
    (home / "p.json").write_bytes(results(rows))

    first = tracker(home, "treaty", "import-parties", "fxt", "--from-file", "p.json")
    assert first.returncode == 0, first.stderr
    assert "conflict: Russia (RU): Wikidata says party 2000-07-01" in first.stdout
    assert "fx-depositary (primary)" in first.stdout
    russia = parties(home)["RU"]
    ratified = next(e for e in russia["events"] if e["event"] == "ratified")
    assert ratified["date"] == "2000-06-30"
    assert [s["key"] for s in ratified["sources"]] == ["fx-depositary"]
    assert [(c["date"], c["source"]["key"]) for c in ratified["conflicts"]] == [
        ("2000-07-01", WIKIDATA)
    ]
    text = tracker(home, "treaty", "show", "fxt", "--parties")
    assert f"conflict: 2000-07-01 per {WIKIDATA} [secondary]" in text.stdout

    again = tracker(home, "treaty", "import-parties", "fxt", "--from-file", "p.json")
    assert "(0 conflict records written)" in again.stdout
    assert parties(home)["RU"] == russia


def test_a_date_agreeing_with_a_primary_source_adds_no_second_event(home):
    (home / "p.json").write_bytes(results([binding("RU", "Russia", "party", "2000-01-01", 9)]))
    done = tracker(home, "treaty", "import-parties", "fxt", "--from-file", "p.json")
    assert "0 added" in done.stdout and "0 in conflict" in done.stdout
    assert [e["date"] for e in parties(home)["RU"]["events"]] == ["2000-06-30"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"head": {}}', b'{"results": {"bindings": [{"state": 3}]}}', b"\xff\xfe"],
    ids=["not-json", "no-bindings", "bad-term", "not-utf8"],
)
def test_bad_results_are_one_line_and_write_nothing(home, body):
    before = parties(home)
    (home / "bad.json").write_bytes(body)
    done = tracker(home, "treaty", "import-parties", "fxt", "--from-file", "bad.json")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "bad.json" in done.stderr
    assert parties(home) == before
    listed = tracker(home, "source", "list", "--json")
    assert WIKIDATA not in listed.stdout


def test_exactly_one_of_file_url_or_item_is_asked_for(home):
    done = tracker(home, "treaty", "import-parties", "fxt")
    assert done.returncode == 2 and "--from-file" in done.stderr


class _Server:
    """A local HTTP server answering every GET with ``body`` (recording the requests)."""

    def __init__(self) -> None:
        self.body = b""
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stall = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Type", wikidata.ACCEPT)
                if self.path.startswith("/stall"):
                    self.end_headers()
                    outer.stall.wait(30)  # until the test ends: a server that never answers
                    return
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    serving = _Server()
    thread = threading.Thread(target=serving.httpd.serve_forever, daemon=True)
    thread.start()
    yield serving
    serving.stall.set()
    serving.httpd.shutdown()
    serving.httpd.server_close()


def test_190_states_from_a_local_url_are_imported_once(home, server):
    server.body = many_states(190)
    url = f"{server.url}/parties.json"
    first = tracker(home, "treaty", "import-parties", "fxt", "--url", url)
    assert first.returncode == 0, first.stderr
    assert "341 added" in first.stdout
    assert server.requests[0][1]["Accept"] == wikidata.ACCEPT
    again = tracker(home, "treaty", "import-parties", "fxt", "--url", url)
    assert "0 added, 0 updated, 0 removed" in again.stdout
    assert len(parties(home)) == 190


def test_an_item_id_sends_the_shipped_query_to_the_configured_endpoint(home, server):
    server.body = results([binding("FR", "France", "signatory", "1996-09-24")])
    endpoint = f"{server.url}/sparql"
    done = tracker(
        home,
        "treaty",
        "import-parties",
        "fxt",
        "--wikidata",
        TREATY_QID,
        TRACKER_TREATIES__WIKIDATA_ENDPOINT=endpoint,
    )
    assert done.returncode == 0, done.stderr
    path, _ = server.requests[0]
    asked = parse_qs(urlsplit(path).query)
    assert asked["format"] == ["json"]
    assert f"VALUES ?treaty {{ wd:{TREATY_QID} }}" in asked["query"][0]
    assert "p:P1891" in asked["query"][0] and "p:P6193" in asked["query"][0]
    assert parties(home)["FR"]["standing"] == "signatory"


def test_results_for_another_item_than_the_one_asked_for_are_refused(home, server):
    server.body = results([binding("FR", "France", "signatory", "1996-09-24")])
    done = tracker(
        home,
        "treaty",
        "import-parties",
        "fxt",
        "--wikidata",
        "Q42",
        TRACKER_TREATIES__WIKIDATA_ENDPOINT=f"{server.url}/sparql",
    )
    assert done.returncode == 2 and f"are for {TREATY_QID}, not Q42" in done.stderr


def test_a_body_over_the_limit_is_refused(server):
    server.body = b" " * 5000
    with pytest.raises(InvalidInput, match="body of 5000 bytes is over the 4096 limit"):
        wikidata.fetch(f"{server.url}/big", max_bytes=4096)


def test_a_server_that_never_sends_its_body_is_given_up_on_at_the_deadline(server):
    with pytest.raises(InvalidInput, match=r"/stall: timed out after 0.2 s"):
        wikidata.fetch(f"{server.url}/stall", timeout=0.2)


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(InvalidInput, match="not an http"):
        wikidata.fetch("file:///etc/passwd")


def test_rows_it_cannot_use_are_skipped_with_their_reason():
    read = wikidata.parse(
        results(
            [
                binding(None, "Soviet Union", "party", "1970-03-05", item="Q15180"),
                binding("DE", "Germany", "signatory", None),
                binding("IT", "Italy", "signatory", "1990-01-01", precision=8),
                binding("FR", "France", "signatory", "1996-09-24"),
                binding("FR", "France", "signatory", "1996-10-01"),
            ]
        ),
        "r.json",
    )
    assert read.treaty == TREATY_QID
    assert [(s.state, s.on) for s in read.statements] == [("FR", date(1996, 9, 24))]
    assert read.skipped == [
        "Soviet Union (Q15180): no ISO 3166-1 alpha-2 code",
        "Germany (DE): signatory without a date",
        "Italy (IT): signatory dated less precisely than a year",
        "France (FR): signatory dated 1996-09-24 and 1996-10-01; the earlier taken",
    ]


def test_the_shipped_query_asks_for_signatories_parties_dates_precision_and_codes():
    query = wikidata.query_text("Q1088219")
    for needed in ("p:P1891", "p:P6193", "pqv:P585", "wikibase:timePrecision", "wdt:P297"):
        assert needed in query
    assert "{treaty}" not in query and "wd:Q1088219" in query


def test_one_import_is_one_transaction(session_factory: sessionmaker[Session], tmp_path):
    (tmp_path / "fixture.toml").write_text(SEED)
    with transaction(session_factory) as session:
        seeding.load(session, [tmp_path / "fixture.toml"], now=CURRENT_TIME)
    commits: list[int] = []
    engine = session_factory.kw["bind"]
    event.listen(engine, "commit", lambda connection: commits.append(1))
    with transaction(session_factory) as session:
        report = import_parties(
            session, "fxt", wikidata.parse(many_states(190), "r"), now=CURRENT_TIME
        )
    assert (report.added, len(commits)) == (341, 1)


def _cites(event: dict[str, Any], key: str) -> bool:
    return [s["key"] for s in event["sources"]] == [key]


def test_consent_after_a_signature_the_tracker_has_is_ratification(
    session_factory: sessionmaker[Session], tmp_path
):
    signed = '\n[[participation]]\ntreaty = "fxt"\nstate = "US"\nevent = "signed"\n'
    signed += 'date = 1996-09-24\nsources = ["fx-depositary"]\n'
    (tmp_path / "fixture.toml").write_text(SEED + signed)
    with transaction(session_factory) as session:
        seeding.load(session, [tmp_path / "fixture.toml"], now=CURRENT_TIME)
    read = wikidata.parse(results([binding("US", "United States", "party", "2001-05-17")]), "r")
    with transaction(session_factory) as session:
        import_parties(session, "fxt", read, now=CURRENT_TIME)
    with session_factory() as session:
        found = queries.treaty(session, "fxt").events
        assert [(e.state, e.event) for e in found if e.state == "US"] == [
            ("US", "signed"),
            ("US", "ratified"),
        ]
