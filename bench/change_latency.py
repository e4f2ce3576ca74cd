"""From an edit's commit to its change email at the SMTP server, through a real daemon.

Issue 14: "A change alert is recorded within 1 s of the end of its coalescing window and
handed to SMTP within 1 s after that." A ``tracker daemon`` process runs on a copy of a
small generated catalogue with ``alerts.coalesce_seconds`` small (``WINDOW_SECONDS``) and
SMTP pointed at an aiosmtpd server in a process of its own, which notes each message's
arrival (``time.time()``) and its Message-ID. One immediate subscriber, added with
``tracker subscriber add`` (so confirmed). Once the daemon has caught up (its first round
and the alerts that fell due meanwhile sent), this process edits one item at a time (a
different deadline or meeting each, so no two coalesce) through ``catalog.editing`` in a
transaction of the project's session factory, as the CLI does, and notes each commit's
wall-clock time. Each edit's notice is found in the outbox by its identity
(``change:<type>:<id>:<last change id>``), and its email at the server by the Message-ID
made from that identity and the recipient.

Measured, per edit: the record lag, the notice's ``recorded_at`` − (commit + window);
the send lag, arrival at the server − ``recorded_at``; and commit → arrival.
"""

from __future__ import annotations

import multiprocessing
import queue
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import copy_db, smtp_in_child, tracker_env
from bench.generate import sqlite_url
from bench.harness import Figure, Row

WINDOW_SECONDS = 2  # alerts.coalesce_seconds for the daemon under test
TARGET_MS = 1000.0
RECIPIENT = "reader@example.org"
SETTLE_LIMIT = 120.0  # seconds for the daemon's first round and its mail
BENCH = "7 change alert latency"


class _Recorder:
    """Each message's arrival instant and Message-ID, put on a queue for the bench."""

    def __init__(self, arrivals: Any) -> None:
        self.arrivals = arrivals

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.time()
        headers = BytesHeaderParser().parsebytes(envelope.content)
        self.arrivals.put((arrived, str(headers.get("Message-ID", "")).strip()))
        return "250 OK"


@contextmanager
def arrival_sink() -> Iterator[tuple[int, Any]]:
    """An aiosmtpd server in a child process: (port, queue of (arrival, Message-ID))."""
    arrivals = multiprocessing.get_context("fork").Queue()
    with smtp_in_child(_Recorder(arrivals)) as port:
        yield port, arrivals


def _drain(arrivals: Any, into: dict[str, float], wait: float = 0.0) -> int:
    """Move what has arrived into ``into`` (Message-ID → arrival); how many there were."""
    got = 0
    deadline = time.monotonic() + wait
    while True:
        try:
            arrived, message_id = arrivals.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return got
        into.setdefault(message_id, arrived)
        got += 1


def _message_id(identity: str, at: datetime) -> str:
    """The Message-ID the tracker gives the change notice ``identity`` for our reader."""
    from tracker.notifiers.base import Message, Recipient
    from tracker.notifiers.compose import message_id
    from tracker.settings import SmtpSettings

    notice = Message("change", identity, "", "", at, Recipient(RECIPIENT))
    return message_id(notice, SmtpSettings().sender)


@dataclass
class Edit:
    subject_type: str
    subject_id: int
    commit: float  # time.time() just after the commit


def _settle(factory: Any, arrivals: Any, received: dict[str, float], daemon: Any) -> float:
    """Wait for the daemon's first round and its mail; the seconds it took."""
    from tracker.outbox.models import Delivery
    from tracker.plan import PlanEntry

    start = time.monotonic()
    quiet = 0
    while time.monotonic() - start < SETTLE_LIMIT:
        if daemon.poll() is not None:
            raise RuntimeError("the daemon exited while settling")
        got = _drain(arrivals, received, wait=1.0)
        with factory() as session:
            swept = session.scalar(select(PlanEntry.due_at).where(PlanEntry.kind == "sweep"))
            pending = session.scalar(
                select(Delivery.id).where(Delivery.status.in_(("pending", "sending"))).limit(1)
            )
        quiet = quiet + 1 if swept is not None and pending is None and not got else 0
        if quiet >= 2:
            return time.monotonic() - start
    raise RuntimeError("the daemon did not settle")


def _targets(factory: Any, n: int) -> list[tuple[str, str, int]]:
    """``n`` items to edit, deadlines and meetings alternately: (type, slug, id)."""
    from tracker.catalog.models import Deadline, Meeting

    with factory() as session:
        deadlines = session.execute(select(Deadline.slug, Deadline.id).limit(n)).all()
        meetings = session.execute(select(Meeting.slug, Meeting.id).limit(n)).all()
    mixed = [("deadline", *row) for row in deadlines], [("meeting", *row) for row in meetings]
    chosen = [item for pair in zip(*mixed, strict=False) for item in pair]
    chosen += [("deadline", *row) for row in deadlines[len(meetings) :]]
    if len(chosen) < n:
        raise RuntimeError(f"{len(chosen)} items to edit for {n} edits")
    return [(t, s, int(i)) for t, s, i in chosen[:n]]


def _edit(factory: Any, subject_type: str, slug: str, label: str) -> float:
    """Retitle one item as the CLI's edit does; time.time() right after the commit."""
    from tracker.catalog import editing
    from tracker.clock import SystemClock
    from tracker.db import transaction

    fields_type = editing.DeadlineFields if subject_type == "deadline" else editing.MeetingFields
    fields: Any = fields_type.parse(title=f"Latency bench item {label}")
    with transaction(factory) as session:
        editing.edit(session, slug, fields, now=SystemClock().now())
    return time.time()


def _p99(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def _row(case: str, samples: list[float], target: bool, note: str) -> Row:
    figure = Figure(samples, "ms")
    p99 = _p99(samples)
    met = figure.median <= TARGET_MS and p99 <= TARGET_MS if target else None
    goal = f"median and p99 ≤ {TARGET_MS:.0f} ms" if target else "reported"
    row = Row(BENCH, case, figure, None, goal, None, met, note=f"p99 {p99:.0f} ms; " + note)
    row.extra.update(median_ms=figure.median, p99_ms=p99, samples_ms=samples)
    return row


def _lags(factory: Any, edits: list[Edit], received: dict[str, float]) -> dict[str, list[float]]:
    """Per edit, in ms: record lag, send lag, commit → arrival, and recorded → sent_at."""
    from tracker.outbox.models import Delivery, Notice

    lags: dict[str, list[float]] = {"record": [], "send": [], "total": [], "outcome": []}
    with factory() as session:
        for edit in edits:
            prefix = f"change:{edit.subject_type}:{edit.subject_id}:"
            notice = session.scalar(select(Notice).where(Notice.identity.startswith(prefix)))
            if notice is None:
                raise RuntimeError(f"no change notice for {prefix}")
            arrived = received.get(_message_id(notice.identity, notice.recorded_at))
            if arrived is None:
                raise RuntimeError(f"no email arrived for {notice.identity}")
            sent_at: datetime | None = session.scalar(
                select(Delivery.sent_at).where(Delivery.notice_id == notice.id)
            )
            recorded = notice.recorded_at.timestamp()
            lags["record"].append((recorded - (edit.commit + WINDOW_SECONDS)) * 1000)
            lags["send"].append((arrived - recorded) * 1000)
            lags["total"].append((arrived - edit.commit) * 1000)
            if sent_at is not None:
                lags["outcome"].append((sent_at.timestamp() - recorded) * 1000)
    return lags


def run(path: Path, work: Path, edits: int, spacing: float = 3.7) -> list[Row]:
    """``edits`` edits ``spacing`` seconds apart against a running daemon."""
    copy = copy_db(path, work, "latency-run")  # not "latency": that is the source
    home = work / "latency-home"
    home.mkdir(exist_ok=True)
    received: dict[str, float] = {}
    with arrival_sink() as (port, arrivals):
        env = tracker_env(
            home,
            sqlite_url(copy),
            TRACKER_ALERTS__COALESCE_SECONDS=str(WINDOW_SECONDS),
            TRACKER_SMTP__HOST="127.0.0.1",
            TRACKER_SMTP__PORT=str(port),
        )
        add = [sys.executable, "-m", "tracker", "subscriber", "add", RECIPIENT, "--immediate"]
        subprocess.run([*add, "--digest", "none"], env=env, cwd=home, check=True, timeout=120)
        with (home / "daemon.log").open("wb") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "tracker", "daemon"],
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                made, settled = _measure(copy, arrivals, received, daemon, edits, spacing)
            finally:
                daemon.terminate()
                try:
                    daemon.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
    from tracker.db import make_engine, make_session_factory

    engine = make_engine(sqlite_url(copy))
    try:
        lags = _lags(make_session_factory(engine), made, received)
    finally:
        engine.dispose()
    return _rows(lags, edits, spacing, settled)


def _measure(
    copy: Path, arrivals: Any, received: dict[str, float], daemon: Any, n: int, spacing: float
) -> tuple[list[Edit], float]:
    from tracker.db import make_engine, make_session_factory

    engine = make_engine(sqlite_url(copy))
    factory = make_session_factory(engine)
    try:
        settled = _settle(factory, arrivals, received, daemon)
        before = len(received)
        made: list[Edit] = []
        for i, (subject_type, slug, item_id) in enumerate(_targets(factory, n)):
            if i:
                _drain(arrivals, received, wait=spacing)
            made.append(Edit(subject_type, item_id, _edit(factory, subject_type, slug, str(i))))
        deadline = time.monotonic() + WINDOW_SECONDS + 60
        while len(received) < before + n and time.monotonic() < deadline:
            _drain(arrivals, received, wait=0.5)
        _drain(arrivals, received, wait=0.5)
    finally:
        engine.dispose()
    return made, settled


def _rows(lags: dict[str, list[float]], n: int, spacing: float, settled: float) -> list[Row]:
    case = f"{n} edit(s), {spacing} s apart, window {WINDOW_SECONDS} s"
    outcome = lags["outcome"]
    spent = f"recorded → outcome written {statistics.median(outcome):.0f} ms" if outcome else ""
    rows = [
        _row(
            f"{case}: recorded − (commit + window)",
            lags["record"],
            True,
            "notice's recorded_at after its coalescing window closed",
        ),
        _row(
            f"{case}: arrival − recorded",
            lags["send"],
            True,
            f"at the aiosmtpd server (own process); median {spent}",
        ),
        _row(
            f"{case}: commit → arrival",
            lags["total"],
            False,
            f"includes the {WINDOW_SECONDS} s window; daemon settled in {settled:.0f} s first",
        ),
    ]
    for row in rows:
        print(f"latency: {row.case}: {row.tracker.text()} {row.note}", file=sys.stderr)
    return rows
