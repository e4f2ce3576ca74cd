"""The links and forms of subscriptions: one-click unsubscribe (RFC 8058), tampered
tokens, CSRF, throttles, rotated secrets, escaping (the site: conftest.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.alerts import tokens
from tracker.alerts.models import Subscriber
from tracker.alerts.tokens import Tokens
from tracker.clock import FixedClock
from tracker.notifiers.base import Recipient
from tracker.outbox.models import Notice
from tracker.web.app import create_app

from ...alerts.helpers import add_subscriber
from ...conftest import CURRENT_TIME
from ...notifiers.conftest import StartServer
from .conftest import Site, links, make_settings


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
        ann = add_subscriber(session, "ann@example.org", now=site.clock.now())
        session.flush()
        ann_id = ann.id
    if path == "confirm":  # a token made for this path, so only the tampering fails it
        signing = tokens.from_settings(site.settings)
        token = signing.sign("confirm", ann_id, "ann@example.org", site.clock.now())
    else:
        token = links(site, "ann@example.org")[0].rpartition("/")[2]
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
        add_subscriber(session, "bob@example.org", now=site.clock.now(), digest="weekly")
    unsubscribe, preferences = links(site, "bob@example.org")
    for url in (unsubscribe, preferences):
        answer = site.client.post(url.removeprefix("http://testserver"), data={"digest": "none"})
        assert answer.status_code == 400 and "This form has expired" in answer.text
    assert site.subscriber("ann@example.org") is None
    bob = site.subscriber("bob@example.org")
    assert bob is not None and bob.unsubscribed_at is None and bob.digest == "weekly"
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
    smtp_server: StartServer,
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


def test_a_rotated_secret_is_accepted_until_its_day_and_refused_after(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
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
