"""Serving /feed.xml against python -m http.server."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import (
    NOTES,
    copy_db,
    free_port,
    ratio_row,
    tracker_env,
    wait_for_port,
)
from bench.generate import sqlite_url
from bench.harness import Row


def load(port: int, clients: int, seconds: float, cap: int = 200_000) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) of ``clients`` threads asking for
    /feed.xml, a new connection per request, for ``seconds`` or ``cap`` requests."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        while time.monotonic() < stop_at and len(latencies) + len(mine) < cap:
            start = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", "/feed.xml")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(str(response.status))
            except OSError as exc:
                errors.append(repr(exc))
            finally:
                connection.close()
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        NOTES.append(f"serve on port {port}: {len(errors)} failed request(s), e.g. {errors[0]}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return len(latencies) / elapsed, p99


def run(path: Path, work: Path, clients: int, seconds: float, repeat: int) -> list[Row]:
    copy = copy_db(path, work, "serve")
    home = work / "serve-home"
    home.mkdir(exist_ok=True)
    env = tracker_env(home, sqlite_url(copy))
    mine_port, floor_port = free_port(), free_port()
    tracker_server = subprocess.Popen(
        [sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1", "--port", str(mine_port)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    floor_server: subprocess.Popen[bytes] | None = None
    try:
        wait_for_port(mine_port, tracker_server)
        # The floor serves the very bytes the tracker renders (it builds no files first).
        feed_dir = home / "floor"
        feed_dir.mkdir(exist_ok=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{mine_port}/feed.xml") as response:
            (feed_dir / "feed.xml").write_bytes(response.read())
        floor_server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(floor_port), "--bind", "127.0.0.1"],
            cwd=feed_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(floor_port, floor_server)
        results: dict[str, list[tuple[float, float]]] = {"tracker": [], "floor": []}
        for _ in range(repeat):
            results["tracker"].append(load(mine_port, clients, seconds))
            results["floor"].append(load(floor_port, clients, seconds))
    finally:
        for process in (tracker_server, floor_server):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    size = (home / "floor" / "feed.xml").stat().st_size
    case = f"{clients} clients, {seconds:g} s, feed.xml {size / 1024:.0f} KiB"
    rps = ratio_row(
        "6 serve",
        case + ": req/s",
        [r[0] for r in results["tracker"]],
        [r[0] for r in results["floor"]],
        "req/s",
        "reported against the floor (no number set)",
    )
    p99 = ratio_row(
        "6 serve",
        case + ": p99",
        [r[1] for r in results["tracker"]],
        [r[1] for r in results["floor"]],
        "ms",
        "reported against the floor (no number set)",
    )
    rps.note = "floor: `python -m http.server` on the same file; a new connection per request"
    print(f"serve: {rps.tracker.text()} vs {rps.floor.text() if rps.floor else ''}")
    return [rps, p99]
