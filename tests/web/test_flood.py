"""A flood of slow clients against `tracker daemon --serve`: 300 connections each sending
one byte of a request head a second. Other readers are still answered, and the daemon,
whose web server is a child process of its own, still delivers mail (to a real SMTP
server). How fast they are answered is measured in bench/slow_headers.py, not here."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from ..notifiers.conftest import StartServer, smtp_server  # noqa: F401
from ..process import free_port, tracker, tracker_env

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 300


def answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def drip(sockets: list[socket.socket], stop: threading.Event) -> None:
    """One byte of a request head a second on each connection, until stopped."""
    head = b"GET /api/upcoming HTTP/1.1\r\nHost: x\r\n"
    sent = 0
    while not stop.is_set() and sent < len(head):
        for sock in sockets:
            with contextlib.suppress(OSError):  # closed by the server: its deadline passed
                sock.send(head[sent : sent + 1])
        sent += 1
        stop.wait(1)


def test_slow_clients_neither_stop_other_readers_nor_the_daemon_delivering(
    tmp_path: Path,
    smtp_server: StartServer,  # noqa: F811
) -> None:
    mail = smtp_server()
    port = free_port()
    assert tracker(tmp_path, "init").returncode == 0
    assert tracker(tmp_path, "subscriber", "add", "ann@example.org", "--immediate").returncode == 0
    env = tracker_env(
        tmp_path,
        TRACKER_SERVER__PORT=str(port),
        TRACKER_SMTP__HOST=mail.host,
        TRACKER_SMTP__PORT=str(mail.port),
        TRACKER_ALERTS__COALESCE_SECONDS="1",
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "tracker", "daemon", "--serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/upcoming"
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 30
        while not answered(url):
            assert time.monotonic() < deadline, "the daemon's server did not start"
            time.sleep(0.2)
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(SLOW_CLIENTS)]
        dripping = threading.Thread(target=drip, args=(sockets, stop), daemon=True)
        dripping.start()
        edit = tracker(tmp_path, "meeting", "edit", "tpnw-revcon-1-2026", "--location", "Vienna")
        assert edit.returncode == 0, edit.stderr
        assert all(answered(url) for _ in range(20))  # other readers, during the flood
        deadline = time.monotonic() + 60
        while not any("Vienna" in str(m) for m in mail.mailbox.received):
            assert time.monotonic() < deadline, "the change was not mailed during the flood"
            time.sleep(0.2)
        assert daemon.poll() is None
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
        daemon.terminate()
        daemon.wait(15)
