from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.alerts.planning import PlannedItem, fire_instant, plan
from tracker.dates import parse
from tracker.views.items import Item
from tracker.views.wording import expected_phrase

DAY = timedelta(days=1)
CURRENT_TIME = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def item(
    when: str = "2026-12-01",
    *,
    leads: tuple[timedelta, ...] = (7 * DAY,),
    valid_from: datetime = CURRENT_TIME - 30 * DAY,
    tz: str = "UTC",
    recurrence: str | None = None,
) -> PlannedItem:
    found = Item(
        "deadline",
        "x",
        "X expires",
        "expiry",
        parse(when),
        tz,
        "pending",
        CURRENT_TIME,
        treaty="new-start",
        recurrence=recurrence,
    )
    return PlannedItem(found, leads, valid_from)


@pytest.mark.parametrize(
    ("when", "tz", "lead", "expected"),
    [
        pytest.param(
            "2026-12-01", "UTC", 7 * DAY, datetime(2026, 11, 24, 8, tzinfo=UTC), id="day-utc"
        ),
        pytest.param(
            "2026-12-01",
            "Europe/Zurich",
            0 * DAY,
            datetime(2026, 12, 1, 7, tzinfo=UTC),
            id="local-hour-in-item-zone",
        ),
        pytest.param(
            "first week of October 2023",
            "UTC",
            1 * DAY,
            datetime(2023, 9, 30, 8, tzinfo=UTC),
            id="imprecise-from-window-start",
        ),
        pytest.param(
            "2026-12-01T10:00 UTC",
            "UTC",
            timedelta(hours=1),
            datetime(2026, 12, 1, 9, tzinfo=UTC),
            id="hour-lead-from-time",
        ),
    ],
)
def test_it_fires_at_the_local_hour_before_the_window_start(
    when: str, tz: str, lead: timedelta, expected: datetime
) -> None:
    assert fire_instant(parse(when), tz, lead, 8) == expected


def test_it_says_an_imprecise_date_is_expected() -> None:
    alerts = plan(
        [item("first week of October 2023", valid_from=datetime(2023, 1, 1, tzinfo=UTC))],
        local_hour=8,
        as_of=CURRENT_TIME,
        horizon=400 * DAY,
    )
    assert "expected in the first week of October 2023" in alerts[0].title
    assert (
        expected_phrase(parse("end of September 2021")) == "expected at the end of September 2021"
    )


def test_the_identity_holds_the_date_as_planned() -> None:
    first = plan([item("2026-12-01")], local_hour=8, as_of=CURRENT_TIME, horizon=DAY)
    moved = plan([item("2026-12-08")], local_hour=8, as_of=CURRENT_TIME, horizon=DAY)
    assert first[0].identity == "alert:deadline:x:7d:2026-12-01"
    assert moved[0].identity != first[0].identity


def test_alerts_before_the_date_was_set_are_void() -> None:
    moved_today = item("2026-11-25", leads=(30 * DAY, 7 * DAY, DAY), valid_from=CURRENT_TIME)
    alerts = plan([moved_today], local_hour=8, as_of=CURRENT_TIME, horizon=DAY)
    assert [a.lead for a in alerts] == [DAY]


def test_an_alert_due_today_before_the_item_was_added_still_fires() -> None:
    added_at_nine = item("2026-11-29", valid_from=CURRENT_TIME)
    alerts = plan([added_at_nine], local_hour=8, as_of=CURRENT_TIME, horizon=DAY)
    assert [a.fires_at for a in alerts] == [datetime(2026, 11, 22, 8, tzinfo=UTC)]


def test_recurring_meetings_are_planned_inside_the_horizon_only() -> None:
    weekly = item("2026-11-02", recurrence="FREQ=WEEKLY", leads=(DAY,))
    alerts = plan([weekly], local_hour=8, as_of=CURRENT_TIME, horizon=21 * DAY)
    days = sorted({a.item.when.earliest.isoformat() for a in alerts})
    assert days[-1] <= "2026-12-13"
    assert "2026-12-07" in days and len(days) <= 7
