"""The six benchmarks of issue 6, each against its floor where the issue names one."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Literal

from sqlalchemy import Engine, select, update

from bench.generate import AS_OF, sqlite_url
from bench.harness import Figure, Row, alternate, run_process, timed
from tracker.alerts.models import Event, Subscriber
from tracker.alerts.worker import Round, Worker
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory, transaction
from tracker.notifiers.base import Message, Notifier
from tracker.settings import Settings

NOTES: list[str] = []
# The daemon's tick and the digests run "as of" instants after the generated data.
TICK_AT = AS_OF + timedelta(hours=9)
DIGEST_AT = datetime(2026, 11, 23, 12, tzinfo=UTC)  # a Monday: weekly digests fall due

CLI_FLOOR = r"""
import sys, json, sqlite3, datetime
import sqlalchemy.orm, pydantic_settings, click
path, mode = sys.argv[1], sys.argv[2]
today = datetime.date.today()
db = sqlite3.connect(path)
if mode == "upcoming":
    end = (today + datetime.timedelta(days=60)).isoformat()
    rows = db.execute(
        "SELECT * FROM deadlines WHERE due_latest >= ? AND due_earliest <= ? "
        "ORDER BY due_earliest, slug", (today.isoformat(), end)).fetchall()
    rows += db.execute(
        "SELECT * FROM meetings WHERE starts_earliest IS NOT NULL AND ("
        "(coalesce(ends_latest, starts_latest) >= ? AND starts_earliest <= ?) "
        "OR recurrence IS NOT NULL) ORDER BY starts_earliest, slug",
        (today.isoformat(), end)).fetchall()
else:
    recent = (today - datetime.timedelta(days=30)).isoformat()
    rows = db.execute(
        "SELECT * FROM deadlines WHERE status NOT IN ('cancelled', 'superseded') AND "
        "(status = 'pending' OR due_latest >= ?) ORDER BY due_earliest, slug",
        (recent,)).fetchall()
json.dump([list(map(str, row)) for row in rows], sys.stdout)
"""


def tracker_env(home: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=url, TRACKER_DATA_DIR=str(home / "var"), **extra)
    return env


def _ratio_row(
    bench: str, case: str, mine: list[float], floor: list[float], unit: str, target: str
) -> Row:
    tracker_fig, floor_fig = Figure(mine, unit), Figure(floor, unit)
    ratio = tracker_fig.median / floor_fig.median
    return Row(bench, case, tracker_fig, floor_fig, target, ratio, None)


# 1. The CLI ---------------------------------------------------------------------------


def cli(dbs: Mapping[int, Path], work: Path, repeat: int, repeat_large: int) -> list[Row]:
    rows: list[Row] = []
    home = work / "cli-home"
    home.mkdir(exist_ok=True)
    largest, smallest = max(dbs), min(dbs)
    commands = {
        "upcoming": ["upcoming", "--within", "60d", "--json"],
        "countdown": ["countdown", "--json"],
    }
    for name, args in commands.items():
        by_size: dict[int, Row] = {}
        for n, path in sorted(dbs.items()):
            env = tracker_env(home, sqlite_url(path))
            times = repeat_large if n == largest and len(dbs) > 1 else repeat
            mine_args = [sys.executable, "-m", "tracker", *args]
            floor_args = [sys.executable, "-c", CLI_FLOOR, str(path), name]
            mine, floor = alternate(
                lambda a=mine_args, e=env: run_process(a, e, home),
                lambda a=floor_args, e=env: run_process(a, e, home),
                times,
            )
            row = _ratio_row("1 CLI", f"`{name}` N={n:,}", mine, floor, "ms", "≤ 1.3× at 100k")
            if n == largest:
                growth = row.tracker.median / by_size[smallest].tracker.median if by_size else 1.0
                row.met = row.ratio is not None and row.ratio <= 1.3 and growth < 1.5
                row.target = "ratio ≤ 1.3, growth 1k→100k < 1.5×"
                row.note = f"growth {smallest:,}→{n:,}: {growth:.2f}×"
                row.extra["growth"] = growth
            by_size[n] = row
            rows.append(row)
            print(f"cli {name} {n}: {row.tracker.text()}", file=sys.stderr, flush=True)
    return rows


# 2. The daemon's tick -----------------------------------------------------------------


class CountingNotifier:
    """A channel that takes every message at once: the tick's own cost is what is left."""

    name: ClassVar[str] = "email"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "subscriber"

    def __init__(self) -> None:
        self.delivered = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier | None:
        return cls()

    def deliver(self, message: Message) -> None:
        self.delivered += 1

    def close(self) -> None:
        pass


def _copy(path: Path, work: Path, name: str) -> Path:
    target = work / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(path, target)
    return target


def catch_up(engine: Engine, settings: Settings, clock: FixedClock) -> tuple[Round, float]:
    """Bring a generated database to the daemon's steady state: digests handled up to now
    and every alert already due recorded (without deliveries: nobody to send to yet)."""
    with engine.begin() as connection:
        connection.execute(update(Subscriber).values(digest_through=clock.now()))
    worker = Worker(make_session_factory(engine), settings, clock, {})
    start = time.perf_counter()
    done = worker.record()
    return done, (time.perf_counter() - start) * 1000


def tick(dbs: Mapping[int, Path], work: Path, ticks: int, subscribers: int = 1000) -> list[Row]:
    rows = []
    for n, path in sorted(dbs.items()):
        copy = _copy(path, work, f"tick-{n}")
        engine = make_engine(sqlite_url(copy))
        settings = Settings(database_url=sqlite_url(copy), data_dir=work / "tick-home")
        clock = FixedClock(TICK_AT)
        first_round, first = catch_up(engine, settings, clock)
        worker = Worker(
            make_session_factory(engine), settings, clock, {"email": CountingNotifier()}
        )
        samples, due = [], []
        for _ in range(1 if n == max(dbs) and len(dbs) > 1 else ticks):
            clock.advance(timedelta(seconds=30))
            start = time.perf_counter()
            due.append(worker.tick().alerts)
            samples.append((time.perf_counter() - start) * 1000)
        engine.dispose()
        figure = Figure(samples, "ms")
        row = Row(
            "2 daemon tick",
            f"N={n:,}, {subscribers:,} subscribers",
            figure,
            None,
            "≤ 20 ms at 100k",
            None,
            figure.median <= 20 if n == max(dbs) else None,
            note=(
                f"steady state, {max(due)} alert(s) due per tick; catching up first "
                f"({first_round.alerts} alerts recorded) took {first:.0f} ms"
            ),
        )
        rows.append(row)
        print(f"tick {n}: {figure.text()}", file=sys.stderr, flush=True)
    return rows


# 3. Digest delivery -------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prebuilt(copy: Path, sender: str) -> list[EmailMessage]:
    engine = make_engine(sqlite_url(copy))
    with make_session_factory(engine)() as session:
        events = session.scalars(select(Event).where(Event.kind == "digest")).all()
        messages = []
        for event in events:
            for delivery in event.deliveries:
                mail = EmailMessage()
                mail["From"], mail["To"], mail["Subject"] = sender, delivery.recipient, event.title
                mail.set_content(event.body)
                messages.append(mail)
    engine.dispose()
    return messages


def digests(path: Path, work: Path, subscribers: int, repeat: int) -> list[Row]:
    from aiosmtpd.controller import Controller

    from tracker.notifiers.email import EmailNotifier

    counter = _Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    mine: list[float] = []
    floor: list[float] = []
    sent_counts: list[int] = []
    try:
        for i in range(repeat):
            copy = _copy(path, work, f"digest-{i}")
            settings = Settings(
                database_url=sqlite_url(copy),
                data_dir=work / "digest-home",
                smtp={"host": "127.0.0.1", "port": port},
                digest={"send_when_empty": True},
            )
            engine = make_engine(sqlite_url(copy))
            notifier = EmailNotifier.from_settings(settings)
            worker = Worker(
                make_session_factory(engine), settings, FixedClock(DIGEST_AT), {"email": notifier}
            )
            before = counter.received
            elapsed = timed(worker.tick)
            notifier.close()
            engine.dispose()
            sent = counter.received - before
            sent_counts.append(sent)
            mine.append(sent / (elapsed / 1000))
            messages = _prebuilt(copy, settings.smtp.sender)

            def bare(messages: list[EmailMessage] = messages) -> None:
                with smtplib.SMTP("127.0.0.1", port) as connection:
                    for mail in messages:
                        connection.send_message(mail)

            floor.append(len(messages) / (timed(bare) / 1000))
    finally:
        controller.stop()
    row = _ratio_row(
        "3 digest delivery",
        f"{subscribers:,} subscribers, {sent_counts[0]:,} digests",
        mine,
        floor,
        "msg/s",
        "≥ 0.8× floor's msg/s",
    )
    row.met = row.ratio is not None and row.ratio >= 0.8
    row.note = (
        f"scaled down from 10k subscribers to {subscribers:,} to keep `make bench` under 15 "
        "min; the rate does not depend on the count (built and sent one by one)"
        if subscribers < 10_000
        else ""
    )
    print(f"digests: {row.tracker.text()} vs {row.floor.text() if row.floor else ''}")
    return [row]


# 4. The feed build --------------------------------------------------------------------


def feed(path: Path, work: Path, events: int, repeat: int) -> list[Row]:
    from tracker.feeds.build import build_feeds

    copy = _copy(path, work, "feed-build")
    out = work / "feed-out"
    settings = Settings(
        database_url=sqlite_url(copy), data_dir=work / "feed-home", feeds={"max_entries": 500}
    )
    engine = make_engine(sqlite_url(copy))
    sessions = make_session_factory(engine)
    first: list[float] = []
    again: list[float] = []
    written: list[int] = []

    def build() -> None:
        with transaction(sessions) as session:
            report = build_feeds(session, settings, out, as_of=AS_OF)
        written.append(len(report.written))

    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        first.append(timed(build))
        again.append(timed(build))
    engine.dispose()
    build_fig, again_fig = Figure(first, "ms"), Figure(again, "ms")
    print(f"feed: {build_fig.text()} / {again_fig.text()}", file=sys.stderr, flush=True)
    return [
        Row(
            "4 feed build",
            f"500 entries from {events:,} events",
            build_fig,
            None,
            "≤ 150 ms",
            None,
            build_fig.median <= 150,
            note="every file: RSS, Atom, calendar.ics, per treaty, the board",
        ),
        Row(
            "4 feed build",
            "unchanged rebuild",
            again_fig,
            None,
            "≤ 30 ms, nothing written",
            None,
            again_fig.median <= 30 and written[1] == 0,
            note=f"{written[1]} file(s) written",
        ),
    ]


# 5. The daemon at rest ----------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def at_rest(path: Path, work: Path, n: int, idle_seconds: float) -> list[Row]:
    copy = _copy(path, work, "rest")
    home = work / "rest-home"
    home.mkdir(exist_ok=True)
    env = tracker_env(home, sqlite_url(copy))
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "daemon"],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Settle: the first tick catches up; at rest is when the CPU stops moving.
        settle_start = time.monotonic()
        last, quiet = _cpu_seconds(process.pid), 0
        while quiet < 3 and time.monotonic() - settle_start < 60:
            time.sleep(1)
            now = _cpu_seconds(process.pid)
            quiet = quiet + 1 if now - last < 0.02 else 0
            last = now
        settle = time.monotonic() - settle_start
        start_cpu, start = _cpu_seconds(process.pid), time.monotonic()
        rss: list[float] = []
        while time.monotonic() - start < idle_seconds:
            time.sleep(min(1.0, idle_seconds))
            rss.append(_rss_mb(process.pid))
        cpu = (_cpu_seconds(process.pid) - start_cpu) / (time.monotonic() - start) * 100
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    rss_fig, cpu_fig = Figure(rss, "MB"), Figure([cpu], "%")
    print(f"rest: {rss_fig.text()} {cpu_fig.text()}", file=sys.stderr, flush=True)
    case = f"N={n:,}, {idle_seconds:.0f} s idle after {settle:.0f} s settling"
    return [
        Row("5 daemon at rest", case + ": RSS", rss_fig, None, "≤ 120 MB", None, max(rss) <= 120),
        Row(
            "5 daemon at rest",
            case + ": CPU",
            cpu_fig,
            None,
            "≤ 1 %",
            None,
            cpu <= 1,
            note="includes the 30 s sweeps (each a full tick)",
        ),
    ]


# 6. Serving /feed.xml -----------------------------------------------------------------


def _wait_for_port(port: int, process: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def load(port: int, clients: int, seconds: float, cap: int = 200_000) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) of ``clients`` threads asking for
    /feed.xml, a new connection per request, for ``seconds`` or ``cap`` requests."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        while time.monotonic() < stop_at and len(latencies) + len(mine) < cap:
            start = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", "/feed.xml")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(str(response.status))
            except OSError as exc:
                errors.append(repr(exc))
            finally:
                connection.close()
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        NOTES.append(f"serve on port {port}: {len(errors)} failed request(s), e.g. {errors[0]}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return len(latencies) / elapsed, p99


def serve(path: Path, work: Path, clients: int, seconds: float, repeat: int) -> list[Row]:
    copy = _copy(path, work, "serve")
    home = work / "serve-home"
    home.mkdir(exist_ok=True)
    env = tracker_env(home, sqlite_url(copy))
    mine_port, floor_port = free_port(), free_port()
    tracker_server = subprocess.Popen(
        [sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1", "--port", str(mine_port)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    floor_server: subprocess.Popen[bytes] | None = None
    try:
        _wait_for_port(mine_port, tracker_server)
        feed_dir = home / "var" / "feed"
        floor_server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(floor_port), "--bind", "127.0.0.1"],
            cwd=feed_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(floor_port, floor_server)
        results: dict[str, list[tuple[float, float]]] = {"tracker": [], "floor": []}
        for _ in range(repeat):
            results["tracker"].append(load(mine_port, clients, seconds))
            results["floor"].append(load(floor_port, clients, seconds))
    finally:
        for process in (tracker_server, floor_server):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    size = (home / "var" / "feed" / "feed.xml").stat().st_size
    case = f"{clients} clients, {seconds:g} s, feed.xml {size / 1024:.0f} KiB"
    rps = _ratio_row(
        "6 serve",
        case + ": req/s",
        [r[0] for r in results["tracker"]],
        [r[0] for r in results["floor"]],
        "req/s",
        "reported against the floor (no number set)",
    )
    p99 = _ratio_row(
        "6 serve",
        case + ": p99",
        [r[1] for r in results["tracker"]],
        [r[1] for r in results["floor"]],
        "ms",
        "reported against the floor (no number set)",
    )
    rps.note = "floor: `python -m http.server` on the same file; a new connection per request"
    print(f"serve: {rps.tracker.text()} vs {rps.floor.text() if rps.floor else ''}")
    return [rps, p99]
