"""A site for the subscription tests: the app over a TestClient on a fixed clock the tests
move forward, email through a real SMTP server (aiosmtpd) and the real outbox worker.
Confirmation links carry the instant they were signed at from that clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.alerts.models import Subscriber
from tracker.alerts.tokens import Tokens
from tracker.clock import FixedClock
from tracker.notifiers.base import Recipient
from tracker.notifiers.email import EmailNotifier
from tracker.outbox.worker import Worker
from tracker.settings import Settings
from tracker.web.app import create_app

from ...conftest import CURRENT_TIME
from ...notifiers.conftest import Server, StartServer, smtp_server  # noqa: F401

SECRET = "test-secret-of-the-links-long-enough-to-sign"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: FixedClock
    server: Server
    client: TestClient

    def worker(self) -> Worker:
        notifier = EmailNotifier.from_settings(self.settings)
        assert notifier is not None
        return Worker(self.sessions, self.settings, self.clock, {"email": notifier})

    def run(self) -> None:
        """A daemon round: record what is due, then deliver it."""
        worker = self.worker()
        worker.record()
        worker.deliver()
        for notifier in worker.notifiers.values():
            notifier.close()

    def later(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found is not None
        return found[1]

    def sign_up(self, email: str, **more: Any) -> Any:
        form = {"csrf": self.csrf("/subscribe"), "email": email, "digest": "daily", **more}
        return self.client.post("/subscribe", data=form)

    def subscriber(self, email: str) -> Subscriber | None:
        with self.sessions() as session:
            return session.scalar(select(Subscriber).where(Subscriber.email == email))

    def received(self) -> list[tuple[str, str]]:
        return [(mail["To"], mail["Subject"]) for mail in self.server.mailbox.received]


def make_settings(tmp_path: Path, server: Server, **server_settings: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        smtp={"host": server.host, "port": server.port, "timeout_seconds": 5},
        feeds={"base_url": "http://testserver/"},
        digest={"local_hour": 0},
        server={"secret": SECRET, **server_settings},
    )


@pytest.fixture
def site(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,  # noqa: F811
    tmp_path: Path,
) -> Iterator[Site]:
    server = smtp_server()
    settings = make_settings(tmp_path, server)
    clock = FixedClock(CURRENT_TIME)
    with TestClient(create_app(settings, session_factory, clock)) as client:
        yield Site(settings, session_factory, clock, server, client)


def links(site: Site, email: str) -> tuple[str, str]:
    sub = site.subscriber(email)
    assert sub is not None
    made = Tokens(SECRET).links("http://testserver")(Recipient(email, subscriber_id=sub.id))
    assert made is not None
    return made.unsubscribe, made.preferences


def confirmation_link(mail: Any) -> str:
    found = re.search(r"http://testserver(/confirm/\S+)", mail.get_body(("plain",)).get_content())
    assert found is not None
    return found[1]
