"""The apprise notifier, with apprise's json:// against a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tracker.notifiers.base import DeliveryError, Message, Recipient
from tracker.notifiers.registry import load_notifiers
from tracker.settings import Settings

from .messages import HOSTILE, alert, digest

pytest.importorskip("apprise")


class Receiver(HTTPServer):
    received: list[dict[str, Any]]
    paths: list[str]
    status: int = 200


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.paths.append(self.path)
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
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def endpoint(receiver: Receiver, path: str = "hook") -> str:
    return f"json://127.0.0.1:{receiver.server_address[1]}/{path}"


def notifier_for(tmp_path: Path, **apprise: Any) -> Any:
    loaded = load_notifiers(Settings(data_dir=tmp_path, apprise=apprise), ["apprise"])
    assert loaded.problems == []
    [notifier] = loaded.notifiers
    return notifier


def to(name: str, message: Message) -> Message:
    return replace(message, recipient=Recipient(name))


def test_an_alert_reaches_a_json_endpoint_as_short_text(receiver: Receiver, tmp_path: Path) -> None:
    notifier = notifier_for(tmp_path, urls=[endpoint(receiver)])
    assert notifier.recipients() == ("1",)
    notifier.deliver(to("1", alert(subject=HOSTILE, text="x" * 5000)))
    notifier.deliver(to("1", digest()))  # digests are personal: not sent to chat
    notifier.close()

    [payload] = receiver.received
    assert payload["title"] == HOSTILE.replace("\r\n", " ")
    assert len(payload["message"]) <= 1000 and payload["message"].endswith("…")


def test_each_delivery_goes_to_the_one_service_it_names(receiver: Receiver, tmp_path: Path) -> None:
    services = {"team": endpoint(receiver, "team"), "press": endpoint(receiver, "press")}
    notifier = notifier_for(tmp_path, services=services, urls=[endpoint(receiver, "old")])
    assert set(notifier.recipients()) == {"team", "press", "1"}

    notifier.deliver(to("press", alert(subject="To the press")))
    notifier.deliver(to("1", alert(subject="To the old list's first")))
    with pytest.raises(DeliveryError) as unknown:
        notifier.deliver(to("nobody", alert()))
    notifier.close()

    assert unknown.value.permanent and "'nobody'" in str(unknown.value)
    assert [payload["title"] for payload in receiver.received] == [
        "To the press",
        "To the old list's first",
    ]
    assert [path for path in receiver.paths] == ["/press", "/old"]


def test_a_failing_endpoint_is_a_temporary_delivery_error(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.status = 503
    notifier = notifier_for(tmp_path, services={"team": endpoint(receiver)})
    with pytest.raises(DeliveryError) as failed:
        notifier.deliver(to("team", alert()))
    assert not failed.value.permanent


@pytest.mark.parametrize(
    ("apprise", "shown"),
    [
        ({"urls": ["nonsense://token-123"]}, "apprise URL number 1"),
        ({"services": {"team": "nonsense://token-123"}}, "apprise URL named 'team'"),
    ],
)
def test_an_unusable_url_is_reported_without_showing_it(
    tmp_path: Path, apprise: dict[str, Any], shown: str
) -> None:
    settings = Settings(data_dir=tmp_path, apprise=apprise)
    loaded = load_notifiers(settings, ["apprise"])
    [problem] = loaded.problems
    assert shown in problem.message and "token-123" not in problem.message


def test_a_service_name_of_digits_only_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not only digits"):
        Settings(data_dir=tmp_path, apprise={"services": {"2": "json://127.0.0.1/x"}})


def test_config_show_masks_each_named_service(tmp_path: Path) -> None:
    from tracker.cli.config import render

    secret = "tk_0123456789"
    settings = Settings(data_dir=tmp_path, apprise={"services": {"team": f"ntfy://{secret}@x/y"}})
    shown = render(settings)
    assert secret not in shown
    assert 'services = {"team": "**********"}' in shown.splitlines()
