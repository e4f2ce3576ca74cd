"""Digests built in groups hold exactly what each subscriber's digest built alone held."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_deadline, make_meeting, make_treaty
from tracker.alerts.digests import Digest, Happening, Period, assemble
from tracker.alerts.models import Subscriber
from tracker.catalog import queries
from tracker.catalog.queries import Filter
from tracker.db import transaction
from tracker.notifiers.feeds import item_link
from tracker.outbox import digest_notices
from tracker.outbox import notices as outbox
from tracker.outbox.models import Notice, NoticeKind
from tracker.settings import Settings
from tracker.views.board import HIDDEN
from tracker.views.changelog import since_link
from tracker.views.items import agenda, from_deadline

from .helpers import add_subscriber

SETTINGS = Settings(digest={"send_when_empty": True})
EMAIL = outbox.Channels(("email",))


def built_alone(
    session: Session, settings: Settings, sub: Subscriber, period: Period, since: datetime
) -> Digest:
    """The digest as it was built before grouping: three queries for one subscriber."""
    events = session.scalars(
        select(Notice)
        .where(
            Notice.recorded_at >= since,
            Notice.recorded_at < period.due_at,
            Notice.kind.in_((NoticeKind.ALERT.value, NoticeKind.CHANGE.value)),
            ~Notice.identity.like("catch-up:%"),
        )
        .order_by(Notice.due_at, Notice.id)
    )
    happenings = [
        Happening(e.kind, e.title, e.due_at, e.late, (e.payload.get("item") or {}).get("link"))
        for e in events
        if sub.concerns(e.treaty_slug, e.subject_kind)
    ]
    as_of = period.due_at
    today = as_of.date()
    days = timedelta(days=settings.digest.agenda_days)
    flt = Filter(today=today, within=days)

    def linked(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "link": item_link(settings.feeds.base_url, entry["type"], entry["slug"])}

    board = [
        linked(from_deadline(d, as_of).as_countdown())
        for d in queries.deadlines(session, flt)
        if d.status not in HIDDEN and sub.concerns(d.treaty.slug if d.treaty else None, d.kind)
    ]
    meetings = [
        m
        for m in queries.meetings(session, flt)
        if sub.concerns(m.treaty.slug if m.treaty else None, m.kind)
    ]
    ahead = [linked(e.as_agenda()) for e in agenda([], meetings, as_of, today, today + days)]
    changes = since_link(settings.feeds.base_url, period.starts_at)
    return assemble(
        sub.email, period, happenings, board=board, agenda=ahead, tz=sub.tz, changes_link=changes
    )


def fill(factory: sessionmaker[Session], now: datetime) -> None:
    """Two treaties, deadlines and meetings of several kinds, a week of events, and
    subscribers of every zone, frequency and filter."""
    start = now - timedelta(days=10)
    with transaction(factory) as session:
        make_treaty(session, now=start)
        make_treaty(session, "tpnw", now=start, short_name="TPNW")
        make_deadline(session, "Data", due="2026-12-05", slug="d1", treaty="new-start", now=start)
        make_deadline(
            session,
            "Review",
            due="2026-12-20",
            slug="d2",
            treaty="tpnw",
            now=start,
            kind="review-conference",
        )
        make_deadline(session, "Loose", due="2027-01-02", slug="d3", now=start)
        make_meeting(session, "Plenary", starts="2026-12-01", slug="m1", treaty="tpnw", now=start)
        make_meeting(
            session, "Talks", starts="2026-12-10", slug="m2", now=start, kind="consultation"
        )
        people: list[dict[str, Any]] = [
            {"tz": "UTC", "digest": "daily"},
            {"tz": "Asia/Tokyo", "digest": "daily", "treaties": ["tpnw"]},
            {"tz": "America/New_York", "digest": "weekly"},
            {"tz": "UTC", "digest": "weekly", "treaties": ["new-start"]},
            {"tz": "Europe/Geneva", "digest": "daily", "kinds": ["review-conference"]},
            {"tz": "UTC", "digest": "daily", "treaties": ["tpnw"]},
            {"tz": "UTC", "digest": "daily", "kinds": ["review-conference", "plenary"]},
        ]
        for n, values in enumerate(people):
            sub = add_subscriber(
                session, f"p{n}@example.org", now=start, immediate=False, digest=values["digest"]
            )
            sub.tz = values["tz"]
            sub.treaties = values.get("treaties", [])
            sub.kinds = values.get("kinds", [])
    for day in range(8):
        at = now - timedelta(days=day, hours=3)
        with transaction(factory) as session:
            for n, (treaty, kind) in enumerate(
                [("new-start", "expiry"), ("tpnw", "review-conference"), (None, "other")]
            ):
                outbox.record(
                    session,
                    outbox.NewNotice(
                        identity=f"alert:test:{day}:{n}",
                        kind="alert" if n else "change",
                        title=f"Item {n} on day {day}",
                        body="-",
                        due_at=at,
                        treaty_slug=treaty,
                        subject_kind=kind,
                    ),
                    [],
                    outbox.Channels(),
                    now=at,
                )


def test_digests_recorded_together_match_each_built_alone(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    fill(session_factory, now)
    expected: dict[str, Digest] = {}
    last_due: dict[str, datetime | None] = {}
    with session_factory() as session:
        for sub in session.scalars(select(Subscriber)):
            latest = sub.schedule(SETTINGS.digest).latest(now)
            assert latest is not None
            # the latest period due, over everything since the subscriber's last digest
            period = Period(latest.key, sub.created_at, latest.due_at)
            digest = built_alone(session, SETTINGS, sub, period, sub.created_at)
            expected[digest.identity] = digest
            last_due[sub.email] = period.due_at
    assert len(expected) == 7  # one each: missed periods fold into the latest

    with transaction(session_factory) as session:
        recorded = digest_notices.record_due_digests(
            session, SETTINGS, outbox.Channels(("email",)), now
        )

    assert recorded == len(expected)
    with session_factory() as session:
        events = session.scalars(select(Notice).where(Notice.kind == "digest")).all()
        assert {e.identity for e in events} == set(expected)
        for event in events:
            digest = expected[event.identity]
            assert (event.title, event.body, event.payload) == (
                digest.subject,
                digest.text(),
                digest.payload(),
            )
        through = {s.email: s.digest_through for s in session.scalars(select(Subscriber))}
        assert through == last_due
    with transaction(session_factory) as session:  # each period once
        again = digest_notices.record_due_digests(
            session, SETTINGS, outbox.Channels(("email",)), now
        )
    assert again == 0


def test_what_is_due_is_what_the_grouped_digest_holds(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    fill(session_factory, now)
    with session_factory() as session:
        [found] = digest_notices.due(session, SETTINGS, now, ["p1@example.org"])
        sub = found.subscriber
        alone = built_alone(session, SETTINGS, sub, found.period, sub.created_at)
        assert found.notice is not None
        assert (found.notice.identity, found.notice.body) == (alone.identity, alone.text())
        assert found.notice.payload == alone.payload()
