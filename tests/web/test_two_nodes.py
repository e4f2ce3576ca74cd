"""Two nodes on one PostgreSQL database: two real ``tracker serve`` processes, each with
a data directory of its own, answer the same ``/api/upcoming`` (bytes and ETag) after
each edit made with the CLI, and their ``/healthz`` name the same active daemon."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ..conftest import POSTGRES_URL, _reset_postgres
from ..process import free_port, tracker_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="set TRACKER_TEST_DATABASE_URL to run"),
]

SHARED = {"TRACKER_SERVER__SECRET": "one secret shared by every node of the tracker"}


def node_env(home: Path) -> dict[str, str]:
    assert POSTGRES_URL
    return tracker_env(home, TRACKER_DATABASE_URL=POSTGRES_URL, **SHARED)


def cli(home: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        cwd=home,
        env=node_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def get(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers["ETag"]


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = node_env(home) | {"TRACKER_FEEDS__BASE_URL": "http://127.0.0.1:9/"}
    with (home / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "serve", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            get(f"{base}/healthz")
            return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError((home / "serve.log").read_text()) from None
            time.sleep(0.1)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Path, list[str], list[int]]]:
    assert POSTGRES_URL
    _reset_postgres(POSTGRES_URL)
    homes = [tmp_path / "node-a", tmp_path / "node-b"]
    for home in homes:
        home.mkdir()
    cli(homes[0], "init")
    starts = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    cli(homes[0], "meeting", "add", "Two Node Review", "--starts", starts, "--slug", "two-node")
    started = [start_server(home) for home in homes]
    daemons = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "daemon"],
            cwd=home,
            env=node_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for home in homes
    ]
    try:
        yield tmp_path, [base for _, base in started], [daemon.pid for daemon in daemons]
    finally:
        for process in [*daemons, *(process for process, _ in started)]:
            process.terminate()
        for process in [*daemons, *(process for process, _ in started)]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def upcoming_on_both(bases: list[str]) -> tuple[bytes, str]:
    (body_a, etag_a), (body_b, etag_b) = (get(f"{base}/api/upcoming") for base in bases)
    assert body_a == body_b
    assert etag_a == etag_b
    return body_a, etag_a


def test_two_servers_on_one_database_answer_the_same_after_each_edit(
    nodes: tuple[Path, list[str], list[int]],
) -> None:
    root, bases, _ = nodes
    first, first_tag = upcoming_on_both(bases)
    assert b"Two Node Review" in first

    cli(root / "node-a", "meeting", "edit", "two-node", "--title", "Two Node Review, renamed")
    second, second_tag = upcoming_on_both(bases)
    assert b"Two Node Review, renamed" in second
    assert second_tag != first_tag

    cli(root / "node-b", "meeting", "edit", "two-node", "--location", "Geneva")
    third, third_tag = upcoming_on_both(bases)
    assert b"Geneva" in third
    assert third_tag not in (first_tag, second_tag)


def test_both_nodes_report_the_one_active_daemon(
    nodes: tuple[Path, list[str], list[int]],
) -> None:
    _, bases, daemon_pids = nodes

    deadline = time.monotonic() + 30
    while True:
        reports = [json.loads(get(f"{base}/healthz")[0]) for base in bases]
        if all(report["daemon"]["active"] for report in reports):
            break
        assert time.monotonic() < deadline, reports
        time.sleep(0.2)

    holders = {report["daemon"]["holder"] for report in reports}
    assert len(holders) == 1  # the same daemon, whichever node is asked
    (holder,) = holders
    assert [pid for pid in daemon_pids if f"tracker daemon pid {pid} " in holder] != []
    assert {report["database"] for report in reports} == {"ok"}
