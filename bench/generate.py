"""Fill a tracker database with realistic, deterministic data for the benchmarks.

Rows go in with SQLAlchemy Core ``insert()`` into the real tables (the schema comes from
the migrations), in batches: the editing services are made for people, not for 100k rows.

    python -m bench.generate --deadlines 100000 --meetings 2000 --treaties 40 \
        --subscribers 1000 --events 1000 [--database-url URL | --path FILE]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from tracker.alerts.models import Subscriber
from tracker.catalog.models import (
    Change,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    stable_uid,
)
from tracker.catalog.treaties import Treaty
from tracker.dates import DateWindow, parse
from tracker.db import make_engine
from tracker.migrations import upgrade
from tracker.outbox.models import Delivery, Notice

# The instant the data is generated "as of": fixed, so every run gets the same rows.
AS_OF = datetime(2026, 11, 22, tzinfo=UTC)
FIRST_YEAR, LAST_YEAR = 1990, 2040
BATCH = 5000
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
PARTS = ("early", "mid", "late")
ORDINALS = ("first", "second", "third", "last")
KINDS = [kind.value for kind in DeadlineKind]
MEETING_KINDS = [kind.value for kind in MeetingKind]
ZONES = ("UTC", "Europe/Geneva", "Europe/Vienna", "America/New_York", "Asia/Tokyo")


@dataclass(frozen=True)
class Counts:
    deadlines: int
    meetings: int
    treaties: int
    subscribers: int
    events: int = 0


@cache
def window(expression: str) -> DateWindow:
    return parse(expression)


def expression(rng: random.Random, year: int) -> str:
    """A date expression of every precision, days and times most often."""
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    roll = rng.random()
    if roll < 0.45:
        return f"{year}-{month:02d}-{day:02d}"
    if roll < 0.55:
        return f"{year}-{month:02d}-{day:02d}T{rng.randint(8, 18)}:00 {rng.choice(ZONES[1:])}"
    if roll < 0.70:
        return f"{MONTHS[month - 1]} {year}"
    if roll < 0.77:
        return f"Q{rng.randint(1, 4)} {year}"
    if roll < 0.82:
        return str(year)
    if roll < 0.88:
        return f"{rng.choice(ORDINALS)} week of {MONTHS[month - 1]} {year}"
    if roll < 0.95:
        return f"{rng.choice(PARTS)}-{MONTHS[month - 1]} {year}"
    return f"{rng.choice(PARTS)} {year}"


def _instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randint(0, max(seconds, 1)))


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _treaties(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        created = _instant(rng, datetime(2020, 1, 1, tzinfo=UTC), AS_OF - timedelta(days=30))
        signed = date(rng.randint(1963, 2020), rng.randint(1, 12), rng.randint(1, 28))
        yield {
            "id": i + 1,
            "slug": f"treaty-{i + 1}",
            "name": f"Treaty on the Limitation of Systems No. {i + 1}",
            "short_name": f"T{i + 1}",
            "kind": rng.choice(("bilateral", "multilateral")),
            "status": rng.choice(("in-force", "in-force", "expired", "not-in-force")),
            "signed": signed,
            "entered_into_force": signed + timedelta(days=rng.randint(30, 900)),
            "expires": None,
            "depositary": "United Nations",
            "summary": "A generated treaty for the benchmarks.",
            "created_at": created,
            "updated_at": created,
        }


def _status(rng: random.Random, latest: date, open_value: str, past: Sequence[str]) -> str:
    if latest >= AS_OF.date():
        return open_value if rng.random() < 0.95 else past[-1]
    return rng.choice(past) if rng.random() < 0.9 else open_value


def _deadlines(rng: random.Random, counts: Counts) -> Iterator[dict[str, Any]]:
    for i in range(counts.deadlines):
        when = window(expression(rng, rng.randint(FIRST_YEAR, LAST_YEAR)))
        created = _instant(rng, datetime(2015, 1, 1, tzinfo=UTC), AS_OF - timedelta(days=1))
        slug = f"deadline-{i + 1}"
        yield {
            "id": i + 1,
            "slug": slug,
            "title": f"Generated deadline {i + 1}",
            "treaty_id": rng.randint(1, counts.treaties) if rng.random() < 0.9 else None,
            "kind": rng.choice(KINDS),
            "due_text": when.text,
            "due_earliest": when.earliest,
            "due_latest": when.latest,
            "due_precision": when.precision.value,
            "due_time": when.at,
            "tz": when.tz or "UTC",
            "status": _status(rng, when.latest, "pending", ("met", "missed", "superseded")),
            "alert_leads": rng.choice((None, None, None, "30d,7d,1d")),
            "notes": None,
            "uid": stable_uid("deadline", slug),
            "sequence": 0,
            "created_at": created,
            "updated_at": created,
        }


def _meetings(rng: random.Random, counts: Counts) -> Iterator[dict[str, Any]]:
    for i in range(counts.meetings):
        slug = f"meeting-{i + 1}"
        recurring = rng.random() < 0.05
        undated = not recurring and rng.random() < 0.02
        start = window(f"{rng.randint(FIRST_YEAR, LAST_YEAR)}-{rng.randint(1, 12):02d}-10")
        ends = window((start.earliest + timedelta(days=rng.randint(0, 10))).isoformat())
        created = _instant(rng, datetime(2015, 1, 1, tzinfo=UTC), AS_OF - timedelta(days=1))
        status = _status(rng, start.latest, "scheduled", ("held", "postponed", "cancelled"))
        yield {
            "id": i + 1,
            "slug": slug,
            "title": f"Generated meeting {i + 1}",
            "series": f"series-{i % 50}" if recurring else None,
            "kind": rng.choice(MEETING_KINDS),
            "treaty_id": rng.randint(1, counts.treaties) if counts.treaties else None,
            "location": "Geneva",
            "starts_text": None if undated else start.text,
            "starts_earliest": None if undated else start.earliest,
            "starts_latest": None if undated else start.latest,
            "starts_precision": None if undated else start.precision.value,
            "starts_time": None,
            "ends_text": None if undated else ends.text,
            "ends_earliest": None if undated else ends.earliest,
            "ends_latest": None if undated else ends.latest,
            "ends_precision": None if undated else ends.precision.value,
            "ends_time": None,
            "tz": "UTC",
            "status": "scheduled" if recurring else status,
            "delegations": [],
            "outcome": None,
            "recurrence": "FREQ=YEARLY" if recurring else None,
            "alert_leads": None,
            "uid": stable_uid("meeting", slug),
            "sequence": 0,
            "created_at": created,
            "updated_at": created,
        }


def _changes(rng: random.Random, counts: Counts) -> Iterator[dict[str, Any]]:
    """History: a ``created`` row per item and, for one in five, a moved date."""
    for kind, n in (("deadline", counts.deadlines), ("meeting", counts.meetings)):
        for i in range(1, n + 1):
            at = _instant(rng, datetime(2015, 1, 1, tzinfo=UTC), AS_OF - timedelta(days=2))
            rows = [("created", None, "generated", at)]
            if rng.random() < 0.2:
                rows.append(("due" if kind == "deadline" else "starts", "2030", "2031", at))
            for field, old, new, changed in rows:
                yield {
                    "subject_type": kind,
                    "subject_id": i,
                    "subject_slug": f"{kind}-{i}",
                    "subject_title": f"Generated {kind} {i}",
                    "field": field,
                    "old": old,
                    "new": new,
                    "changed_at": changed,
                    "recorded_at": changed,
                    "source_id": None,
                    "note": None,
                }


def _subscribers(rng: random.Random, counts: Counts) -> Iterator[dict[str, Any]]:
    for i in range(counts.subscribers):
        treaties = (
            [f"treaty-{rng.randint(1, counts.treaties)}" for _ in range(rng.randint(1, 3))]
            if counts.treaties and rng.random() < 0.3
            else []
        )
        created_at = AS_OF - timedelta(days=rng.randint(30, 900))
        yield {
            "id": i + 1,
            "email": f"subscriber{i + 1}@example.org",
            "name": f"Subscriber {i + 1}",
            "tz": rng.choice(ZONES),
            "digest": rng.choice(("weekly", "weekly", "daily", "none")),
            "immediate": rng.random() < 0.5,
            "treaties": sorted(set(treaties)),
            "kinds": rng.sample(KINDS, 2) if rng.random() < 0.2 else [],
            "leads": rng.choice((None, None, "14d,1d")),
            "created_at": created_at,
            "confirmed_at": created_at,
            # Digests handled up to a week ago: the next run has one period to send each.
            "digest_through": AS_OF - timedelta(days=7),
        }


def _events(rng: random.Random, counts: Counts) -> Iterator[dict[str, Any]]:
    """Alerts already recorded for everyone (history for the feeds)."""
    for i in range(1, counts.events + 1):
        due = _instant(rng, datetime(2016, 1, 1, tzinfo=UTC), AS_OF - timedelta(days=1))
        slug = f"deadline-{rng.randint(1, max(counts.deadlines, 1))}"
        yield {
            "id": i,
            "identity": f"alert:bench:{i}",
            "kind": "alert",
            "subject_type": "deadline",
            "subject_slug": slug,
            "subject_kind": rng.choice(KINDS),
            "treaty_slug": f"treaty-{rng.randint(1, counts.treaties)}" if counts.treaties else None,
            "lead": "7d",
            "title": f"In 7 days: generated deadline {slug}",
            "body": f"Generated alert {i} for {slug}.",
            "payload": {},
            "change_id": None,
            "due_at": due,
            "recorded_at": due,
            "late": False,
        }


def _change_events(
    changes: list[dict[str, Any]], subscribers: list[dict[str, Any]], first_id: int
) -> Iterator[dict[str, Any]]:
    """The change events a running daemon recorded as the history was written (changes
    from before the first subscriber alerted nobody), delivered long ago."""
    if not subscribers:
        return
    first = min(sub["created_at"] for sub in subscribers)
    recorded = (change for change in changes if change["recorded_at"] > first)
    for event_id, change in enumerate(recorded, first_id):
        yield {
            "id": event_id,
            "identity": f"change:{change['id']}",
            "kind": "change",
            "subject_type": change["subject_type"],
            "subject_slug": change["subject_slug"],
            "subject_kind": None,
            "treaty_slug": None,
            "lead": None,
            "title": f"{change['subject_title']}: {change['field']}",
            "body": f"Generated change {change['id']}.",
            "payload": {},
            "change_id": change["id"],
            "due_at": change["recorded_at"],
            "recorded_at": change["recorded_at"],
            "late": False,
        }


def _deliveries(counts: Counts) -> Iterator[dict[str, Any]]:
    for i in range(1, counts.events + 1):
        at = AS_OF - timedelta(days=1)
        yield {
            "event_id": i,
            "channel": "apprise",
            "recipient": "team-chat",  # a configured service, by its name
            "status": "sent",
            "attempts": 1,
            "next_attempt_at": at,
            "claimed_at": None,
            "last_error": None,
            "created_at": at,
            "requeued_at": None,
            "sent_at": at,
        }


def generate(engine: Engine, counts: Counts, *, seed: int = 20261122) -> None:
    """Create the schema and fill it; the same seed gives the same rows."""
    upgrade(engine)
    rng = random.Random(seed)
    treaties = list(_treaties(rng, counts.treaties))
    deadlines = list(_deadlines(rng, counts))
    meetings = list(_meetings(rng, counts))
    changes = [{"id": i, **row} for i, row in enumerate(_changes(rng, counts), 1)]
    subscribers = list(_subscribers(rng, counts))
    events = list(_events(rng, counts))
    tables = [
        (Treaty, treaties),
        (Deadline, deadlines),
        (Meeting, meetings),
        (Change, changes),
        (Subscriber, subscribers),
        (Notice, events),
        (Notice, _change_events(changes, subscribers, first_id=len(events) + 1)),
        (Delivery, _deliveries(counts)),
    ]
    with engine.begin() as connection:
        for model, rows in tables:
            for batch in _batches(rows):
                connection.execute(insert(model), batch)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=None, help="default: deadlines / 50")
    parser.add_argument("--treaties", type=int, default=40)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--events", type=int, default=0, help="broadcast alerts in the outbox")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite --path)")
    parser.add_argument("--path", type=Path, default=Path("var/bench/tracker.db"))
    args = parser.parse_args(argv)
    url = args.database_url or sqlite_url(args.path)
    if not args.database_url and args.path.exists():
        sys.exit(f"{args.path} exists: remove it first, or name another --path")
    meetings = args.meetings if args.meetings is not None else max(args.deadlines // 50, 1)
    counts = Counts(args.deadlines, meetings, args.treaties, args.subscribers, args.events)
    engine = make_engine(url)
    try:
        generate(engine, counts, seed=args.seed)
    finally:
        engine.dispose()
    print(f"generated {counts} into {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
