"""Self-service subscriptions over HTTP, with email through a real SMTP server (aiosmtpd).

The app runs on a fixed clock the tests move forward; confirmation links carry the
instant they were signed at from it.
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
from tracker.outbox.models import Notice
from tracker.outbox.worker import Worker
from tracker.settings import Settings
from tracker.web.app import create_app

from ..alerts.helpers import add_subscriber
from ..conftest import CURRENT_TIME
from ..notifiers.conftest import Server, StartServer, smtp_server  # noqa: F401

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


def test_a_web_sign_up_sends_one_confirmation_and_nothing_else_until_it_is_posted(
    site: Site,
) -> None:
    answer = site.sign_up("ann@example.org", immediate="yes")
    assert answer.status_code == 200
    assert "Check your email" in answer.text
    with site.sessions() as session, session.begin():
        pending = session.scalar(select(Subscriber).where(Subscriber.email == "ann@example.org"))
        assert pending is not None and pending.confirmed_at is None
        pending.empty_digests = True  # a digest would go every day, were they confirmed
    site.run()
    [mail] = site.server.mailbox.received
    assert mail["To"] == "ann@example.org"
    assert mail["Subject"].startswith("Confirm your subscription")
    assert mail["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm = confirmation_link(mail)

    for _ in range(3):  # digests fall due (daily, at midnight): nothing for a sign-up
        site.later(timedelta(hours=15))
        site.run()
    assert len(site.server.mailbox.received) == 1

    page = site.client.get(confirm)  # a link scanner's GET confirms nothing
    assert page.status_code == 200 and "<button" in page.text
    assert site.subscriber("ann@example.org").confirmed_at is None  # type: ignore[union-attr]
    done = site.client.post(confirm, data={"csrf": CSRF.search(page.text)[1]})  # type: ignore[index]
    assert done.status_code == 200 and "is subscribed" in done.text
    assert site.subscriber("ann@example.org").confirmed_at is not None  # type: ignore[union-attr]

    site.later(timedelta(days=1))
    site.run()
    [(to, subject)] = site.received()[1:]
    assert to == "ann@example.org" and "nothing new" in subject


def test_every_email_has_list_unsubscribe_and_a_one_click_post_stops_the_next_digest(
    site: Site,
) -> None:
    with site.sessions() as session, session.begin():
        for email in ("ann@example.org", "bob@example.org"):
            add_subscriber(
                session,
                email,
                now=site.clock.now() - timedelta(days=2),
                digest="daily",
                empty_digests=True,
            )
    site.run()
    mails = {mail["To"]: mail for mail in site.server.mailbox.received}
    assert set(mails) == {"ann@example.org", "bob@example.org"}
    for mail in mails.values():
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.fullmatch(
        r"<http://testserver(/unsubscribe/\S+)>", mails["ann@example.org"]["List-Unsubscribe"]
    )
    assert one_click is not None

    answer = site.client.post(
        one_click[1],
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert site.subscriber("ann@example.org").unsubscribed_at is not None  # type: ignore[union-attr]

    site.server.mailbox.received.clear()
    site.later(timedelta(days=1))
    site.run()
    assert [to for to, _ in site.received()] == ["bob@example.org"]


def test_a_multipart_one_click_post_unsubscribes_too(site: Site) -> None:
    with site.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.org", now=site.clock.now())
    unsubscribe, _ = links(site, "ann@example.org")
    answer = site.client.post(
        unsubscribe.removeprefix("http://testserver"),
        files={"List-Unsubscribe": (None, "One-Click")},
    )
    assert answer.status_code == 200
    assert site.subscriber("ann@example.org").unsubscribed_at is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["unsubscribe", "preferences", "confirm"])
def test_a_tampered_token_gets_400_and_changes_nothing(site: Site, path: str) -> None:
    with site.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.org", now=site.clock.now())
    unsubscribe, _ = links(site, "ann@example.org")
    token = unsubscribe.rpartition("/")[2]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for method in ("GET", "POST"):
        answer = site.client.request(
            method,
            f"/{path}/{tampered}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 400
        assert "not valid" in answer.text
    sub = site.subscriber("ann@example.org")
    assert sub is not None and sub.unsubscribed_at is None


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_recorded(site: Site) -> None:
    answer = site.client.post("/subscribe", data={"email": "ann@example.org", "digest": "daily"})
    assert answer.status_code == 400
    assert "This form has expired, reload the page." in answer.text
    with site.sessions() as session, session.begin():
        add_subscriber(session, "bob@example.org", now=site.clock.now())
    unsubscribe, preferences = links(site, "bob@example.org")
    for url in (unsubscribe, preferences):
        answer = site.client.post(url.removeprefix("http://testserver"), data={"digest": "none"})
        assert answer.status_code == 400 and "This form has expired" in answer.text
    assert site.subscriber("ann@example.org") is None
    bob = site.subscriber("bob@example.org")
    assert bob is not None and bob.unsubscribed_at is None and bob.digest == "none"
    with site.sessions() as session:
        assert session.scalars(select(Notice)).all() == []


def test_a_csrf_token_of_another_form_or_too_old_is_refused(site: Site) -> None:
    with site.sessions() as session, session.begin():
        add_subscriber(session, "bob@example.org", now=site.clock.now())
    unsubscribe, _ = links(site, "bob@example.org")
    path = unsubscribe.removeprefix("http://testserver")
    other = site.csrf("/subscribe")
    assert site.client.post(path, data={"csrf": other}).status_code == 400
    own = site.csrf(path)
    site.later(timedelta(hours=7))
    assert site.client.post(path, data={"csrf": own}).status_code == 400
    assert site.subscriber("bob@example.org").unsubscribed_at is None  # type: ignore[union-attr]


def test_sign_ups_are_throttled_per_address_and_per_client(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path, smtp_server(), form_hits_per_address=2, form_hits_per_client=4
    )
    clock = FixedClock(CURRENT_TIME)
    with TestClient(create_app(settings, session_factory, clock)) as client:
        site = Site(settings, session_factory, clock, smtp_server(), client)
        assert [site.sign_up("ann@example.org").status_code for _ in range(3)] == [200, 200, 429]
        assert "try again in an hour" in site.sign_up("ann@example.org").text
        assert site.sign_up("bob@example.org").status_code == 429  # the client's 5th
        site.later(timedelta(hours=1, seconds=1))
        assert site.sign_up("ann@example.org").status_code == 200  # a new window
    with session_factory() as session:
        confirmations = session.scalars(select(Notice.identity)).all()
    assert len(confirmations) == 3  # the refused ones recorded nothing


def test_an_expired_sign_up_is_refused_and_forgotten(site: Site) -> None:
    site.sign_up("ann@example.org")
    site.run()
    [mail] = site.server.mailbox.received
    confirm = confirmation_link(mail)
    csrf = site.csrf(confirm)
    site.later(timedelta(hours=48, seconds=1))
    assert site.client.get(confirm).status_code == 400
    answer = site.client.post(confirm, data={"csrf": csrf})
    assert answer.status_code == 400 and "expired" in answer.text
    assert site.subscriber("ann@example.org").confirmed_at is None  # type: ignore[union-attr]
    site.sign_up("bob@example.org")  # a sign-up forgets those expired
    assert site.subscriber("ann@example.org") is None


def test_a_rotated_secret_is_accepted_until_its_day_and_refused_after(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    now = CURRENT_TIME
    until = now.date()
    with session_factory() as session, session.begin():
        add_subscriber(session, "ann@example.org", now=now)
    with session_factory() as session:
        sub_id = session.scalar(select(Subscriber.id))
    made = Tokens("the-old-secret-rotated-out-of-service").links("http://testserver")(
        Recipient("ann@example.org", subscriber_id=sub_id)
    )
    assert made is not None
    path = made.unsubscribe.removeprefix("http://testserver")
    settings = make_settings(
        tmp_path,
        smtp_server(),
        previous_secrets=[{"secret": "the-old-secret-rotated-out-of-service", "until": until}],
    )
    clock = FixedClock(now)
    with TestClient(create_app(settings, session_factory, clock)) as client:
        assert client.get(path).status_code == 200
        clock.advance(timedelta(days=1))
        assert client.get(path).status_code == 400


def test_signing_up_again_says_the_same_and_mails_only_those_not_subscribed(site: Site) -> None:
    with site.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.org", now=site.clock.now())
        add_subscriber(
            session, "bob@example.org", now=site.clock.now(), unsubscribed_at=site.clock.now()
        )
    first = site.sign_up("ann@example.org")
    again = site.sign_up("bob@example.org")
    new = site.sign_up("cy@example.org")
    assert first.status_code == again.status_code == new.status_code == 200
    said = {
        a.text.replace(f"{e}@example.org", "X")
        for a, e in ((first, "ann"), (again, "bob"), (new, "cy"))
    }
    assert len(said) == 1
    site.run()
    assert sorted(to for to, _ in site.received()) == ["bob@example.org", "cy@example.org"]
    bob = next(m for m in site.server.mailbox.received if m["To"] == "bob@example.org")
    csrf = site.csrf(confirmation_link(bob))
    site.client.post(confirmation_link(bob), data={"csrf": csrf})
    sub = site.subscriber("bob@example.org")
    assert sub is not None and sub.unsubscribed_at is None


def test_preferences_are_shown_and_changed(site: Site) -> None:
    with site.sessions() as session, session.begin():
        ann = add_subscriber(session, "ann@example.org", now=site.clock.now())
        ann.kinds = ["review-conference"]
    _, preferences = links(site, "ann@example.org")
    path = preferences.removeprefix("http://testserver")
    page = site.client.get(path)
    assert 'value="review-conference" checked' in page.text
    csrf = CSRF.search(page.text)[1]  # type: ignore[index]
    form = {
        "csrf": csrf,
        "digest": "weekly",
        "digest_day": "friday",
        "digest_hour": "7",
        "tz": "Europe/Geneva",
        "kind": "nope",
        "leads": "30d",
    }
    refused = site.client.post(path, data=form)
    assert refused.status_code == 400 and "unknown kind &#39;nope&#39;" in refused.text
    saved = site.client.post(path, data={**form, "kind": "expiry"})
    assert saved.status_code == 200 and "Saved." in saved.text
    sub = site.subscriber("ann@example.org")
    assert sub is not None
    assert (sub.digest, sub.digest_day, sub.digest_hour, sub.tz, sub.kinds, sub.leads) == (
        "weekly",
        "friday",
        7,
        "Europe/Geneva",
        ["expiry"],
        "30d",
    )


def test_what_is_typed_is_escaped_and_a_large_body_refused(site: Site) -> None:
    answer = site.sign_up("<script>alert(1)</script>", tz="<b>zone</b>")
    assert answer.status_code == 400
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text
    assert "<b>zone" not in answer.text
    big = site.client.post("/subscribe", data={"csrf": "x", "email": "a" * 20_000})
    assert big.status_code == 413


def test_only_the_subscription_forms_take_posts(site: Site) -> None:
    for path in ("/", "/api/upcoming", "/feed.xml"):
        assert site.client.post(path).status_code == 405


def test_subscriber_list_says_each_state(site: Site) -> None:
    from click.testing import CliRunner

    from tracker.cli.main import cli

    now = site.clock.now()
    with site.sessions() as session, session.begin():
        add_subscriber(session, "active@example.org", now=now)
        add_subscriber(session, "pending@example.org", now=now).confirmed_at = None
        add_subscriber(session, "gone@example.org", now=now, unsubscribed_at=now)
        add_subscriber(session, "bounced@example.org", now=now, suspended_at=now, bounces=3)
    url = str(site.sessions.kw["bind"].url.render_as_string(hide_password=False))
    result = CliRunner().invoke(cli, ["--database-url", url, "subscriber", "list", "--json"])
    assert result.exit_code == 0, result.output
    import json

    states = {row["email"]: row["state"] for row in json.loads(result.output)}
    assert states == {
        "active@example.org": "active",
        "pending@example.org": "pending confirmation",
        "gone@example.org": "unsubscribed",
        "bounced@example.org": "suspended",
    }
    table = CliRunner().invoke(cli, ["--database-url", url, "subscriber", "list"]).output
    assert "pending confirmation since" in table and "unsubscribed since" in table
