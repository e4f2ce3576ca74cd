"""The apprise notifier, with apprise's json:// against a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tracker.notifiers.base import DeliveryError
from tracker.notifiers.registry import load_notifiers
from tracker.settings import Settings

from .messages import HOSTILE, alert, digest

pytest.importorskip("apprise")


class Receiver(HTTPServer):
    received: list[dict[str, Any]]
    status: int = 200


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.received.append(json.loads(self.rfile.read(length)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = Receiver(("127.0.0.1", 0), Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def notifier_for(receiver: Receiver, tmp_path: Path) -> Any:
    url = f"json://127.0.0.1:{receiver.server_address[1]}/hook"
    loaded = load_notifiers(Settings(data_dir=tmp_path, apprise={"urls": [url]}), ["apprise"])
    assert loaded.problems == []
    [notifier] = loaded.notifiers
    return notifier


def test_an_alert_reaches_a_json_endpoint_as_short_text(receiver: Receiver, tmp_path: Path) -> None:
    notifier = notifier_for(receiver, tmp_path)
    notifier.deliver(alert(subject=HOSTILE, text="x" * 5000))
    notifier.deliver(digest())  # digests are personal: not sent to chat
    notifier.close()

    [payload] = receiver.received
    assert payload["title"] == HOSTILE.replace("\r\n", " ")
    assert len(payload["message"]) <= 1000 and payload["message"].endswith("…")


def test_a_failing_endpoint_is_a_temporary_delivery_error(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.status = 503
    notifier = notifier_for(receiver, tmp_path)
    with pytest.raises(DeliveryError) as failed:
        notifier.deliver(alert())
    assert not failed.value.permanent


def test_an_unusable_url_is_reported_without_showing_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, apprise={"urls": ["nonsense://token-123"]})
    loaded = load_notifiers(settings, ["apprise"])
    [problem] = loaded.problems
    assert "apprise URL number 1" in problem.message and "token-123" not in problem.message
