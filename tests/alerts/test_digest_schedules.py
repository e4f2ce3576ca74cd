"""Each subscriber's digest schedule: their own day, hour and zone over the global
[digest] settings; what is due once per period; forced resends under a new identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts import subscribers
from tracker.alerts.models import Subscriber
from tracker.db import transaction
from tracker.errors import InvalidInput
from tracker.outbox import digest_notices
from tracker.outbox import notices as outbox
from tracker.outbox.models import Notice
from tracker.settings import Settings

from .helpers import add_subscriber

CURRENT_TIME = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
EMAIL = outbox.Channels(("email",))
EMPTY = Settings(digest={"send_when_empty": True})


def _add(factory: sessionmaker[Session], email: str, **values: object) -> None:
    with transaction(factory) as session:
        sub = add_subscriber(
            session, email, now=CURRENT_TIME - timedelta(days=3), immediate=False, digest="weekly"
        )
        for key, value in values.items():
            setattr(sub, key, value)


def _due(factory: sessionmaker[Session], settings: Settings, now: datetime) -> list[str]:
    with factory() as session:
        return sorted(
            f"{d.subscriber.email} {d.period.key}"
            for d in digest_notices.due(session, settings, now)
        )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(datetime(2026, 11, 26, 12, tzinfo=UTC), [], id="thursday"),
        pytest.param(datetime(2026, 11, 26, 22, 59, tzinfo=UTC), [], id="friday-07:59-tokyo"),
        pytest.param(
            datetime(2026, 11, 26, 23, 0, tzinfo=UTC),
            ["kenji@example.org 2026-W48"],
            id="friday-08:00-tokyo",
        ),
    ],
)
def test_a_weekly_digest_falls_due_on_the_subscribers_day_hour_and_zone(
    session_factory: sessionmaker[Session], now: datetime, expected: list[str]
) -> None:
    _add(session_factory, "kenji@example.org", digest_day="friday", digest_hour=8, tz="Asia/Tokyo")
    _add(session_factory, "ana@example.org")  # Monday 08:00 UTC: handled before Thursday
    with transaction(session_factory) as session:
        ana = subscribers.get(session, "ana@example.org")
        ana.digest_through = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert _due(session_factory, EMPTY, now) == expected


def test_who_left_the_schedule_to_the_settings_follows_them(
    session_factory: sessionmaker[Session],
) -> None:
    _add(session_factory, "ana@example.org")
    _add(session_factory, "bo@example.org", digest_day="monday", digest_hour=8)
    tuesday = Settings(digest={"weekday": "tuesday", "local_hour": 6, "send_when_empty": True})
    monday_noon = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert _due(session_factory, EMPTY, monday_noon) == [
        "ana@example.org 2026-W48",
        "bo@example.org 2026-W48",
    ]
    # the global day moves to Tuesday: Ana's week falls due Tuesday 06:00, Bo keeps Monday
    assert _due(session_factory, tuesday, monday_noon) == ["bo@example.org 2026-W48"]
    tuesday_six = datetime(2026, 11, 24, 6, tzinfo=UTC)
    assert _due(session_factory, tuesday, tuesday_six - timedelta(seconds=1)) == [
        "bo@example.org 2026-W48"
    ]
    assert _due(session_factory, tuesday, tuesday_six) == [
        "ana@example.org 2026-W48",
        "bo@example.org 2026-W48",
    ]
    with session_factory() as session:
        keys = {key for _, key, _ in digest_notices.next_digests(session, tuesday)}
    assert keys == {"weekly:tue:06:UTC", "weekly:mon:08:UTC"}


def test_each_period_is_recorded_once_and_a_forced_resend_is_a_new_notice(
    session_factory: sessionmaker[Session],
) -> None:
    _add(session_factory, "ana@example.org", digest="daily")
    for _ in range(3):
        with transaction(session_factory) as session:
            digest_notices.record_due_digests(session, EMPTY, EMAIL, CURRENT_TIME)
    for expected in (1, 2):
        with transaction(session_factory) as session:
            [forced], _ = digest_notices.record_digests(
                session, EMPTY, EMAIL, CURRENT_TIME, ["ana@example.org"], force=True
            )
        assert forced.resend == expected and forced.forced
    with session_factory() as session:
        identities = sorted(session.scalars(select(Notice.identity)))
        through = session.scalar(select(Subscriber.digest_through))
    assert identities == [
        "digest:ana@example.org:2026-11-23",
        "digest:ana@example.org:2026-11-23:resend:1",
        "digest:ana@example.org:2026-11-23:resend:2",
    ]
    assert through == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_an_empty_digest_is_handled_but_recorded_only_when_asked_for(
    session_factory: sessionmaker[Session],
) -> None:
    _add(session_factory, "quiet@example.org", digest="daily")
    _add(session_factory, "keen@example.org", digest="daily", empty_digests=True)
    with transaction(session_factory) as session:
        found, recorded = digest_notices.record_digests(session, Settings(), EMAIL, CURRENT_TIME)
    assert recorded == 1
    assert {d.subscriber.email: d.notice is not None for d in found} == {
        "quiet@example.org": False,
        "keen@example.org": True,
    }
    [keen] = [d for d in found if d.notice is not None]
    assert keen.notice is not None and "Nothing new since" in keen.notice.body
    assert _due(session_factory, EMPTY, CURRENT_TIME) == []  # both periods handled


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"digest_day": "someday"}, "--digest-day must be a weekday"),
        ({"digest_hour": "24"}, "--digest-hour must be a local hour 0–23"),
        ({"digest_hour": "eight"}, "--digest-hour must be a local hour 0–23"),
        ({"digest": "hourly"}, "--digest must be one of daily, weekly, none"),
    ],
)
def test_bad_schedule_options_are_refused_in_one_line(
    options: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        subscribers.values(**options)
    assert "\n" not in str(refused.value)


def test_a_digest_day_is_for_weekly_digests_and_default_follows_the_settings(
    session: Session,
) -> None:
    assert subscribers.values(digest_day="Fri", digest_hour="07:00") == {
        "digest_day": "friday",
        "digest_hour": 7,
    }
    assert subscribers.values(digest_day="default", digest_defaults=True) == {
        "digest_day": None,
        "digest_hour": None,
        "empty_digests": None,
    }
    with pytest.raises(InvalidInput, match="--digest-day is for weekly digests"):
        subscribers.add(
            session,
            "ana@example.org",
            subscribers.values(digest="daily", digest_day="mon"),
            now=CURRENT_TIME,
        )
    sub = subscribers.add(
        session, "ana@example.org", subscribers.values(digest="daily"), now=CURRENT_TIME
    )
    session.flush()
    with pytest.raises(InvalidInput, match=r"this one's is daily \(add --digest weekly\)"):
        subscribers.edit(session, sub.email, subscribers.values(digest_day="mon"))
    shown = subscribers.as_dict(sub, Settings().digest)
    assert shown["schedule"] == "daily at 08:00 UTC"
    assert shown["digest_schedule"]["defaults"] == ["weekday", "local_hour", "empty_digests"]
