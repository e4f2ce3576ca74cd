"""Every route over Starlette's TestClient: content types, caching headers, 304, 404, 405.

Everything is rendered live from the database; it is what ``tracker feed build`` writes
for the same instant, byte for byte."""

from __future__ import annotations

import gzip
import json
import os
from email.utils import formatdate, parsedate_to_datetime

import pytest
from starlette.testclient import TestClient

from tracker.web.live import etag

FILES = [
    ("/feed.xml", "application/rss+xml"),
    ("/atom.xml", "application/atom+xml"),
    ("/calendar.ics", "text/calendar; charset=utf-8"),
    ("/treaties/new-start.xml", "application/rss+xml"),
    ("/treaties/new-start.ics", "text/calendar; charset=utf-8"),
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
]
API = ["/api/upcoming", "/api/countdowns", "/api/treaties", "/api/treaties/new-start"]


@pytest.mark.parametrize(("path", "content_type"), FILES, ids=[p for p, _ in FILES])
def test_it_serves_each_file_with_its_content_type_and_caching_headers(
    client: TestClient, site, path: str, content_type: str
):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["etag"].startswith('W/"')
    assert response.headers["last-modified"].endswith("GMT")
    relative = "index.html" if path == "/" else path.lstrip("/")
    assert response.content == (site.feed_dir / relative).read_bytes()


@pytest.mark.parametrize("path", [p for p, _ in FILES] + API)
def test_it_answers_304_when_the_etag_matches(client: TestClient, path: str):
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_it_compares_etags_weakly_and_in_lists(client: TestClient):
    etag = client.get("/feed.xml").headers["etag"]
    strong = etag.removeprefix("W/")
    headers = {"If-None-Match": f'"nope", {strong}'}
    assert client.get("/feed.xml", headers=headers).status_code == 304
    assert client.get("/feed.xml", headers={"If-None-Match": '"nope"'}).status_code == 200


def test_it_answers_304_when_not_modified_since_and_200_when_older(client: TestClient):
    mtime = parsedate_to_datetime(client.get("/feed.xml").headers["last-modified"]).timestamp()
    since = {"If-Modified-Since": formatdate(mtime + 1, usegmt=True)}
    assert client.get("/feed.xml", headers=since).status_code == 304
    older = {"If-Modified-Since": formatdate(mtime - 3600, usegmt=True)}
    assert client.get("/feed.xml", headers=older).status_code == 200
    garbage = {"If-Modified-Since": "yesterday-ish"}
    assert client.get("/feed.xml", headers=garbage).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient):
    mtime = parsedate_to_datetime(client.get("/feed.xml").headers["last-modified"]).timestamp()
    headers = {"If-None-Match": '"other"', "If-Modified-Since": formatdate(mtime + 1, usegmt=True)}
    assert client.get("/feed.xml", headers=headers).status_code == 200


def test_it_gzips_for_clients_that_ask_and_not_for_others(client: TestClient):
    raw = client.get("/feed.xml", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    zipped = client.get("/feed.xml", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == raw.content  # httpx decodes it
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert gzip.decompress(gzip.compress(raw.content)) == raw.content


def test_head_has_the_headers_and_no_body(client: TestClient):
    response = client.head("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/", "/feed.xml", "/treaties/new-start.xml", "/api/treaties"])
def test_it_is_read_only(client: TestClient, method: str, path: str):
    response = client.request(method, path)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


TRAVERSALS = [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/treaties/../../../etc/passwd",
    "/treaties/..%2f..%2f..%2fetc%2fpasswd",
    "/treaties/%2e%2e%2f%2e%2e%2ftracker.db",
    "/treaties/..%252f..%252fetc%252fpasswd.xml",
    "/treaties/%2e%2e.xml",
    "/treaties/.xml",
    "/treaties/New-Start.xml",
    "/treaties/new-start.atom",
    "/treaties/new-start.xml/",
    "/treaties/",
    "/treaties/no-such-treaty.xml",
    "/tracker.db",
    "/index.html/../tracker.db",
    "/feed.xml%00.html",
    "/api/treaties/no-such-treaty",
    "/api/nothing",
    "/nothing",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_unknown_paths_and_traversal_attempts_get_404(client: TestClient, path: str):
    response = client.get(path)
    assert response.status_code == 404
    assert b"root:" not in response.content


def test_a_feed_is_served_live_even_when_its_built_file_is_gone(client: TestClient, site):
    path = site.feed_dir / "atom.xml"
    content, stat = path.read_bytes(), path.stat()
    path.unlink()
    try:
        response = client.get("/atom.xml")
        assert response.status_code == 200
        assert response.content == content
    finally:
        path.write_bytes(content)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def cli_json(settings, *args: str) -> object:
    """What ``tracker ... --json`` prints, in-process (a subprocess each would take seconds)."""
    from click.testing import CliRunner

    from tracker.cli.main import cli

    database = ["--database-url", settings.effective_database_url]
    result = CliRunner().invoke(
        cli,
        [*database, "--as-of", "2026-11-22T09:00", *args, "--json"],
        env={"TRACKER_DATA_DIR": str(settings.data_dir)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("path", "args"),
    [
        ("/api/countdowns", ["countdown"]),
        ("/api/upcoming", ["upcoming"]),
        (
            "/api/upcoming?within=30d&kind=plenary",
            ["upcoming", "--within", "30d", "--kind", "plenary"],
        ),
        ("/api/treaties", ["treaty", "list"]),
        ("/api/treaties/new-start", ["treaty", "show", "new-start"]),
    ],
    ids=["countdowns", "upcoming", "upcoming-filtered", "treaties", "treaty"],
)
def test_the_api_returns_the_same_objects_as_the_cli_json(client: TestClient, site, path, args):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == cli_json(site.settings, *args)


def test_a_bad_duration_is_a_400(client: TestClient):
    assert client.get("/api/upcoming?within=soon").status_code == 400


def test_etag_is_the_revision_and_a_digest_of_the_content():
    assert etag(1, b"a") == etag(1, b"a") != etag(1, b"b")
    assert etag(1, b"a") != etag(2, b"a")


def test_it_serves_the_feeds_and_the_api_on_each_database(seeded_site):
    with seeded_site.client() as client:
        assert client.get("/feed.xml").status_code == 200
        treaties = client.get("/api/treaties").json()
        assert "new-start" in {t["slug"] for t in treaties}
        new_start = client.get("/api/treaties/new-start").json()
        assert new_start["standing"] == {"US": "ended", "RU": "ended"}
        assert client.get("/api/countdowns").status_code == 200
