"""The same tracker app under three ASGI servers: uvicorn with tracker's guard (as
`tracker serve` runs it), hypercorn and granian, each given a 10 s limit on reading a
request head (issue 15 item 5: uvicorn alone has none).

    python -m bench.asgi_servers [--deadlines 100000] [--slow 300] [--seconds 20]

hypercorn and granian are not dependencies of tracker: install them beside it to run this.
Each server runs in a process of its own, on a copy of one generated database, with a soft
limit of 1,024 open files (a common default; `tracker serve` raises its own to fit its
cap). For each: the slow-header flood of bench/slow_headers.py; GET / and one item page
at 50 keep-alive clients (bench/live.py's load); one client dripping a head byte a second
(is it closed at ~10 s?); and 1,100 idle connections at once (is there a cap of 1,000?).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import live, slow_headers
from bench.common import copy_db, free_port, tracker_env, wait_for_port
from bench.generate import Counts, generate, sqlite_url

SERVERS = ("uvicorn+guard", "hypercorn", "granian")
HEADER_TIMEOUT = 10  # seconds, for every server
FILE_LIMIT = 1024  # the soft limit each server starts with
BACKLOG = 1000  # as make_server sets it for a cap of 1,000
DRIP_LIMIT = 20.0  # a dripping client still open by then: no deadline
IDLE_CONNECTIONS = 1100  # past tracker's cap of 1,000


def tracker_app() -> Any:
    """The app `tracker serve` runs, body limit and headers included, from the settings
    in the environment (granian's workers import this by name)."""
    from tracker.cli.app import App
    from tracker.web.app import create_app
    from tracker.web.guard import BodyLimit
    from tracker.web.headers import SecurityHeaders

    app = App()
    limit = app.settings.server.max_body_bytes
    return SecurityHeaders(BodyLimit(create_app(app.settings, app.sessions, app.clock), limit))


def serve(kind: str, port: int) -> None:
    """Run ``kind`` on ``port`` in this process until SIGTERM."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, hard))
    if kind == "uvicorn+guard":  # as bench/slow_headers.py's SERVER and `tracker serve`
        from tracker.cli.app import App
        from tracker.web import server

        app = App()
        settings = app.settings
        server.configure_logging("WARNING")
        server.raise_file_limit(2 * settings.server.max_connections + 100)
        listen = settings.server.model_copy(update={"port": port})
        server.make_server(
            settings.model_copy(update={"server": listen}), app.sessions, app.clock
        ).run()
    elif kind == "hypercorn":
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        # read_timeout bounds each read; keep_alive_timeout runs from a connection's
        # opening (or its last response) until a whole request head is parsed.
        config.read_timeout = HEADER_TIMEOUT
        config.keep_alive_timeout = HEADER_TIMEOUT
        config.backlog = BACKLOG
        config.loglevel = "WARNING"
        asyncio.run(hypercorn_serve(tracker_app(), config))
    elif kind == "granian":
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces
        from granian.http import HTTP1Settings
        from granian.log import LogLevels

        Granian(
            "bench.asgi_servers:tracker_app",
            address="127.0.0.1",
            port=port,
            interface=Interfaces.ASGI,
            factory=True,
            workers=1,
            http=HTTPModes.http1,
            http1_settings=HTTP1Settings(header_read_timeout=HEADER_TIMEOUT * 1000),
            backlog=BACKLOG,
            log_level=LogLevels.warning,
        ).serve()
    else:
        raise SystemExit(f"unknown server {kind!r}")


async def drip(port: int) -> float | None:
    """Seconds until the server closes a connection whose head comes a byte a second;
    None if it is still open after DRIP_LIMIT."""
    head = b"GET /api/upcoming HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for byte in head:
            if time.monotonic() - began > DRIP_LIMIT:
                return None
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), 1.0) == b"":
                    return time.monotonic() - began
            except TimeoutError:
                pass
    except OSError:
        return time.monotonic() - began
    finally:
        writer.close()
    return None


@dataclass(frozen=True)
class Held:
    refused: int  # of IDLE_CONNECTIONS, closed by the server within two seconds
    server_fds: int  # open files of the server's processes meanwhile
    get_ok: bool  # a GET /api/upcoming answered meanwhile, within 5 s
    get_after: bool  # and one a second after they were let go


def _open_files(pid: int) -> int:
    """Open files of ``pid`` and its children (granian serves from a worker process)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return sum(len(os.listdir(f"/proc/{p}/fd")) for p in pids)


async def hold(port: int, pid: int) -> Held:
    async def one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        except (OSError, TimeoutError):
            return None

    opened = await asyncio.gather(*(one() for _ in range(IDLE_CONNECTIONS)))
    await asyncio.sleep(2)

    async def closed(pair: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> bool:
        if pair is None:
            return True
        try:
            return await asyncio.wait_for(pair[0].read(1), 0.2) == b""
        except TimeoutError:
            return False
        except OSError:
            return True

    refused = sum(await asyncio.gather(*(closed(pair) for pair in opened)))
    fds = _open_files(pid)
    got = await slow_headers.timed_get(port)
    for pair in opened:
        if pair is not None:
            pair[1].close()
    await asyncio.sleep(1)
    after = await slow_headers.timed_get(port)
    return Held(refused, fds, got is not None, after is not None)


@dataclass(frozen=True)
class Outcome:
    kind: str
    flood: slow_headers.Flood
    board: live.Load
    item: live.Load
    drip_closed_at: float | None
    held: Held


def measure(kind: str, db: Path, work: Path, slug: str, slow: int, seconds: float) -> Outcome:
    home = work / kind
    home.mkdir()
    env = tracker_env(home, sqlite_url(copy_db(db, work, kind)))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)  # bench itself
    port = free_port()
    command = [sys.executable, "-m", "bench.asgi_servers", "--serve", kind, str(port)]
    with (home / "serve.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, cwd=home, stdout=log, stderr=log)
    try:
        wait_for_port(port, server)
        for path in ("/", f"/meetings/{slug}"):  # warm: the first render fills caches
            live.load(port, [live.Ask(path)], 4, 1)
        board = live.load(port, [live.Ask("/")], 50, 5)
        item = live.load(port, [live.Ask(f"/meetings/{slug}")], 50, 5)
        dripped = asyncio.run(drip(port))
        flood = asyncio.run(slow_headers.flood(port, slow, seconds))
        held = asyncio.run(hold(port, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return Outcome(kind, flood, board, item, dripped, held)


def _ok(answered: bool) -> str:
    return "answered" if answered else "failed"


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| server | head dripped: closed at | 1,100 idle: refused at once, server fds, "
        "a GET meanwhile, after | flood: other client p50 / p99 / max, failed | flood: slow "
        "closed | GET / req/s, p99 | item page req/s, p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        f = o.flood
        found = f.latencies or [float("nan")]
        drip_text = (
            f"{o.drip_closed_at:.1f} s"
            if o.drip_closed_at is not None
            else f"open at {DRIP_LIMIT:g} s"
        )
        held = o.held
        lines.append(
            f"| {o.kind} | {drip_text} | {held.refused}, {held.server_fds}, "
            f"{_ok(held.get_ok)}, {_ok(held.get_after)} | {found[len(found) // 2] * 1000:.1f} / "
            f"{f.p99 * 1000:.1f} / {found[-1] * 1000:.0f} ms, {f.failures} of "
            f"{f.answered + f.failures} | {f.closed} of {f.slow} | {o.board.rps:.0f}, "
            f"{o.board.p99_ms:.0f} ms | {o.item.rps:.0f}, {o.item.p99_ms:.0f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deadlines", type=int, default=100_000)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--only", choices=SERVERS, action="append")
    parser.add_argument("--serve", nargs=2, metavar=("SERVER", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    missing = [name for name in ("hypercorn", "granian") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"asgi_servers: skipped ({' and '.join(missing)} not installed)")
        return
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # this side holds 1,100 at once
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        db = work / "generated.db"
        from tracker.db import make_engine, make_session_factory

        engine = make_engine(sqlite_url(db))
        generate(engine, Counts(args.deadlines, max(args.deadlines // 50, 4), 40, 100))
        slug = live._meeting_slugs(make_session_factory(engine), 1)[0]
        engine.dispose()
        outcomes = []
        for kind in args.only or SERVERS:
            outcomes.append(measure(kind, db, work, slug, args.slow, args.seconds))
            print(f"{kind}: done", file=sys.stderr, flush=True)
    print(table(outcomes))


if __name__ == "__main__":
    main()
