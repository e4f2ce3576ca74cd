"""For any items, lead times and up/down intervals, every alert instant goes out once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.alerts.planning import PlannedItem, plan
from tracker.dates import parse
from tracker.views.items import Item

START = datetime(2026, 11, 1, tzinfo=UTC)
HORIZON = timedelta(days=400)

items = st.lists(
    st.tuples(
        st.dates(min_value=date(2026, 11, 1), max_value=date(2027, 3, 1)),
        st.sets(st.integers(min_value=0, max_value=60), min_size=1, max_size=4),
        st.sampled_from(["UTC", "Europe/Zurich", "America/New_York", "Asia/Tokyo"]),
    ),
    min_size=1,
    max_size=5,
)
# minutes from START at which the daemon runs a tick, strictly increasing
ticks = st.lists(st.integers(min_value=0, max_value=200 * 24 * 60), min_size=1, max_size=30)


def plannables(raw: list[tuple[date, set[int], str]]) -> list[PlannedItem]:
    return [
        PlannedItem(
            Item(
                "deadline", f"d{i}", f"D{i}", "other", parse(day.isoformat()), tz, "pending", START
            ),
            tuple(timedelta(days=lead) for lead in leads),
            START,
        )
        for i, (day, leads, tz) in enumerate(raw)
    ]


@settings(max_examples=60, deadline=None)
@given(items, ticks)
def test_every_alert_instant_is_recorded_once_whatever_the_downtime(
    raw: list[tuple[date, set[int], str]], minutes: list[int]
) -> None:
    things = plannables(raw)
    recorded: list[str] = []
    for minute in sorted(set(minutes)):
        as_of = START + timedelta(minutes=minute)
        alerts = plan(things, local_hour=8, as_of=as_of, horizon=HORIZON)
        recorded += [
            a.identity for a in alerts if a.fires_at <= as_of and a.identity not in recorded
        ]
    last = START + timedelta(minutes=max(minutes))
    expected = {
        a.identity
        for a in plan(things, local_hour=8, as_of=last, horizon=HORIZON)
        if a.fires_at <= last
    }
    assert sorted(recorded) == sorted(expected)
    assert len(recorded) == len(set(recorded))
    # identities are stable: planning again later gives the same identities and instants
    again = {
        a.identity: a.fires_at for a in plan(things, local_hour=8, as_of=last, horizon=HORIZON)
    }
    first = {
        a.identity: a.fires_at for a in plan(things, local_hour=8, as_of=START, horizon=HORIZON)
    }
    assert again == first
