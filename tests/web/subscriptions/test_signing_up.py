"""Signing up on the web: double opt-in, expiry, signing up again, preferences, the
states `subscriber list` shows (the site: conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tracker.alerts.models import Subscriber

from ...alerts.helpers import add_subscriber
from .conftest import CSRF, Site, confirmation_link, links


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
