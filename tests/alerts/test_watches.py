"""Watch alerts (#14 item 6): an expected confirmation that did not come alerts the
subscribers once; a meeting left awaiting its outcome mails the operator once. Through the
real worker, over a real SMTP server, on a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_meeting
from tracker import plan
from tracker.catalog import editing
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.notifiers.email import EmailNotifier
from tracker.outbox.models import Notice
from tracker.outbox.worker import Worker
from tracker.settings import Settings

from ..notifiers.conftest import Server, StartServer, smtp_server
from .helpers import add_subscriber

__all__ = ["smtp_server"]

# "end of September 2027" is 21–30 September: 14 days ahead of the 21st is the 7th, 08:00.
CONFIRMATION_DUE = datetime(2027, 9, 7, 8, 0, tzinfo=UTC)
MISSING = "Expected confirmation missing"
Tick = Callable[[datetime], list[tuple[str, list[str]]]]


def ticking(
    factory: sessionmaker[Session], server: Server, settings: Settings
) -> Callable[[datetime], list[tuple[str, list[str]]]]:
    """A tick of a worker started afresh at each instant (as after a restart: its first
    round is the catch-up), giving every (subject, recipients) received so far."""

    def tick(at: datetime) -> list[tuple[str, list[str]]]:
        notifier = EmailNotifier.from_settings(settings)
        assert notifier is not None
        Worker(factory, settings, FixedClock(at), {"email": notifier}).tick()
        notifier.close()
        return [
            (str(mail["Subject"]), recipients)
            for mail, (_, recipients) in zip(
                server.mailbox.received, server.mailbox.envelopes, strict=True
            )
        ]

    return tick


def mail_settings(server: Server, tmp_path: Path, **alerts: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        smtp={"host": server.host, "port": server.port, "timeout_seconds": 5},
        alerts=alerts,
    )


def subjects(received: list[tuple[str, list[str]]], start: str) -> list[str]:
    return [subject for subject, _ in received if subject.startswith(start)]


def planned_at(factory: sessionmaker[Session], slug: str) -> datetime | None:
    with factory() as session:
        return session.scalar(
            select(plan.PlanEntry.due_at).where(
                plan.PlanEntry.kind == plan.Work.ITEM.value, plan.PlanEntry.key == slug
            )
        )


def test_a_missing_confirmation_alerts_subscribers_once_on_its_day(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    tmp_path: Path,
    now: datetime,
) -> None:
    with transaction(session_factory) as session:
        add_subscriber(session, now=now)
        add_subscriber(session, "bo@example.org", now=now).kinds = ["summit"]
        make_meeting(
            session, "SSD plenary", starts="end of September 2027", slug="ssd", now=now,
            confirm_ahead="14d", alert="1d",
        )  # fmt: skip
    server = smtp_server()
    tick = ticking(session_factory, server, mail_settings(server, tmp_path))

    tick(now)
    assert planned_at(session_factory, "meeting:ssd") == CONFIRMATION_DUE  # in the plan
    assert subjects(tick(CONFIRMATION_DUE - timedelta(minutes=1)), MISSING) == []
    received = tick(CONFIRMATION_DUE + timedelta(seconds=30))
    assert [(s, r) for s, r in received if s.startswith(MISSING)] == [
        (
            "Expected confirmation missing: SSD plenary — end of September 2027 was usually "
            "announced by 2027-09-07",
            ["ana@example.org"],  # bo follows summits only
        )
    ]
    [mail] = [m for m in server.mailbox.received if str(m["Subject"]).startswith(MISSING)]
    body = mail.get_body(("plain",))
    assert body is not None
    assert "http://127.0.0.1:8040/meetings/ssd" in body.get_content()  # its page
    tick(CONFIRMATION_DUE + timedelta(hours=1))
    later = tick(CONFIRMATION_DUE + timedelta(days=2))  # a restart catches up: nothing twice
    assert len(subjects(later, MISSING)) == 1
    with session_factory() as session:
        notice = session.scalars(select(Notice).where(Notice.identity.like("watch:%"))).one()
    assert notice.identity == "watch:meeting:ssd:2027-09-21"
    assert notice.kind == "alert" and notice.public


@pytest.mark.parametrize(
    "confirmation",
    [{"confidence": "confirmed"}, {"starts": "2027-09-28"}, {"status": "cancelled"}],
    ids=["confirmed", "made-precise", "cancelled"],
)
def test_a_confirmation_recorded_before_its_day_sends_nothing(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    tmp_path: Path,
    now: datetime,
    confirmation: dict[str, str],
) -> None:
    with transaction(session_factory) as session:
        add_subscriber(session, now=now)
        make_meeting(
            session, "SSD plenary", starts="end of September 2027", slug="ssd", now=now,
            confirm_ahead="14d",
        )  # fmt: skip
    server = smtp_server()
    tick = ticking(session_factory, server, mail_settings(server, tmp_path))
    tick(now)
    edited = CONFIRMATION_DUE - timedelta(days=1)
    with transaction(session_factory) as session:
        fields = editing.MeetingFields.parse(**confirmation)
        editing.edit(session, "ssd", fields, now=edited)
    tick(edited)
    received = tick(CONFIRMATION_DUE + timedelta(seconds=30))
    received = tick(CONFIRMATION_DUE + timedelta(days=1))
    assert subjects(received, MISSING) == []


def test_a_meeting_awaiting_its_outcome_four_days_mails_the_operator_once(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    tmp_path: Path,
    now: datetime,
) -> None:
    with transaction(session_factory) as session:
        add_subscriber(session, now=now)
        make_meeting(
            session, "Experts", starts="2026-11-24", ends="2026-11-25", slug="experts", now=now
        )
        make_meeting(
            session, "Envoys", starts="2026-11-24", ends="2026-11-25", slug="envoys", now=now
        )
    server = smtp_server()
    settings = mail_settings(server, tmp_path, operator_email="ops@example.org")
    tick = ticking(session_factory, server, settings)
    # awaiting its outcome from 26 November; three days on, the 29th at 08:00, it is stale
    due = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    stale = "Outcome not recorded"

    tick(now)
    tick(datetime(2026, 11, 27, 12, tzinfo=UTC))  # awaiting its outcome, within the grace
    assert planned_at(session_factory, "meeting:experts") == due
    with transaction(session_factory) as session:  # Envoys' outcome comes in time
        fields = editing.MeetingFields.parse(status="held", outcome="Agreed a text")
        editing.edit(session, "envoys", fields, now=due - timedelta(hours=1))
    assert subjects(tick(due - timedelta(minutes=1)), stale) == []
    received = tick(due + timedelta(seconds=30))
    assert [(s, r) for s, r in received if s.startswith(stale)] == [
        ("Outcome not recorded: Experts ended 2026-11-25, 4 days ago", ["ops@example.org"])
    ]
    [mail] = [m for m in server.mailbox.received if str(m["Subject"]).startswith(stale)]
    body = mail.get_body(("plain",))
    assert body is not None
    assert "tracker meeting edit experts --status held --outcome TEXT" in body.get_content()
    tick(due + timedelta(hours=2))
    received = tick(due + timedelta(days=3))  # a restart catches up: nothing twice
    assert len(subjects(received, stale)) == 1
    assert all(
        "ops@example.org" not in r for s, r in received if not s.startswith(stale)
    )  # the operator gets nothing else, the subscribers not this


def test_without_an_operator_address_a_stale_outcome_is_not_planned(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    tmp_path: Path,
    now: datetime,
) -> None:
    with transaction(session_factory) as session:
        make_meeting(session, "Experts", starts="2026-11-24", slug="experts", now=now, alert="1d")
    server = smtp_server()
    tick = ticking(session_factory, server, mail_settings(server, tmp_path))
    tick(now)
    tick(datetime(2026, 12, 5, tzinfo=UTC))
    with session_factory() as session:
        assert (
            session.scalars(select(Notice.identity).where(Notice.identity.like("stale:%"))).all()
            == []
        )
